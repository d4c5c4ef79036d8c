// Presence of actors on NATS: a fast way to learn that an actor's process is gone.
//
// A ping to an actor nobody serves is answered by the server at once with "no responders", and a
// crashed process's connection closes with it, so its subscriptions vanish from the server
// immediately. Pinging the actors one depends on every `intervalMs` therefore notices a crash
// within that interval — well inside one registry heartbeat TTL. Heartbeats in Redis stay the
// definitive (slower) signal for hosts that vanish without closing their connections; a ping
// that merely times out (a busy or disconnected peer) changes nothing.
import { NoRespondersError } from './errors.js';
import type { Logger } from './log.js';
import type { ActorPing } from './schemas.js';
import type { ActorRef, ActorServices } from './types.js';

export interface PresenceOptions {
  /** How often every watched actor is pinged (ms). */
  intervalMs: number;
  /** Ping timeout (ms); default twice the interval. */
  timeoutMs?: number;
  /** Called when an actor is found absent, or present again (also when first seen). */
  onChange: (name: string, present: boolean, ping: ActorPing | undefined) => void;
  /**
   * Whether the scheduled ping is worth sending now (default: always), e.g. only while something
   * depends on the actor and it has not proved alive by its traffic. An actor taken for absent is
   * always pinged, so that its return is noticed.
   */
  due?: (name: string) => boolean;
  log: Logger;
}

export class PresenceWatch {
  private names = new Set<string>();
  private readonly present = new Map<string, boolean>();
  private readonly probing = new Set<string>();
  private readonly handles = new Map<string, ActorRef<unknown>>();
  private readonly timer: NodeJS.Timeout;
  private readonly timeoutMs: number;
  private stopped = false;

  constructor(
    private readonly system: Pick<ActorServices, 'actor'>,
    private readonly o: PresenceOptions,
  ) {
    this.timeoutMs = o.timeoutMs ?? 2 * o.intervalMs;
    this.timer = setInterval(() => {
      for (const name of this.names) if (this.present.get(name) === false || (o.due?.(name) ?? true)) this.probe(name);
    }, o.intervalMs);
    this.timer.unref();
  }

  /** The actors to watch (replaces the previous set). */
  watch(names: Iterable<string>): void {
    this.names = new Set(names);
    for (const name of [...this.present.keys()]) {
      if (this.names.has(name)) continue;
      this.present.delete(name);
      this.handles.delete(name);
    }
  }

  /**
   * Takes `name` for absent without reporting it (its loss was learnt elsewhere) and probes it now, so
   * that its return is reported.
   */
  suspect(name: string): void {
    this.present.set(name, false);
    this.probe(name);
  }

  /** Forgets what is known of `name`: its next answer (or "no responders") is reported as news. */
  forget(name: string): void {
    this.present.delete(name);
  }

  /** Pings `name` now (unless a ping to it is still out). */
  probe(name: string): void {
    if (this.stopped || this.probing.has(name)) return;
    let handle = this.handles.get(name);
    if (!handle) {
      handle = this.system.actor(name, { timeoutMs: this.timeoutMs });
      this.handles.set(name, handle);
    }
    this.probing.add(name);
    handle
      .ping()
      .then(
        (ping) => this.report(name, true, ping),
        (err: unknown) => {
          if (err instanceof NoRespondersError) this.report(name, false, undefined);
        },
      )
      .finally(() => this.probing.delete(name));
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private report(name: string, present: boolean, ping: ActorPing | undefined): void {
    if (this.stopped || (!this.names.has(name) && !this.present.has(name))) return;
    if (this.present.get(name) === present) return;
    this.present.set(name, present);
    try {
      this.o.onChange(name, present, ping);
    } catch (err) {
      this.o.log.error({ err, actor: name }, 'presence handler failed');
    }
  }
}
