// Supervision of actor processes: fork bus/actor-host.js per actor, restart it when it dies
// unexpectedly — at most `maxRestarts` times within `restartWindowMs`, with exponential
// backoff — and give up after that (like Ray's max_restarts).
import { type ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { HostMemoryRequest, HostMessage, ProcessMemory } from './actor-host.js';
import { ActorStateError } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { assertToken } from './subjects.js';

export interface SupervisedActorOptions {
  /** Actor name (one process per name under this supervisor). */
  name: string;
  /** Path of the compiled JS module exporting the actor class or object. */
  module: string;
  /** Export name; default `default`. */
  exportName?: string;
  /** Constructor arguments (JSON-serialisable). */
  constructorArgs?: unknown[];
  concurrency?: number;
  /** Restarts allowed within `restartWindowMs` before giving up. Default 3. */
  maxRestarts?: number;
  /** Default 60 000 ms. */
  restartWindowMs?: number;
  /** First restart delay (ms), doubled per restart in the window, capped by `maxBackoffMs`. Default 100. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Environment for the child (NATS_URL, REDIS_URL, LOG_LEVEL... are inherited otherwise). */
  env?: Record<string, string>;
  prefix?: string;
  heartbeatIntervalMs?: number;
  heartbeatTtlMs?: number;
  /** Grace period for a drain on stop before SIGKILL. Default 10 000 ms. */
  stopTimeoutMs?: number;
  /** Extra Node options for the child, after this process's own (e.g. `--expose-gc`). */
  execArgv?: string[];
  /**
   * A command that runs the child's `node` for it and execs it (so the pid stays the child's),
   * e.g. `['ip', 'netns', 'exec', 'host-1']` to run it in a network namespace.
   */
  wrap?: string[];
}

export type SupervisedState = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped' | 'failed';

export interface SupervisedActor {
  readonly name: string;
  readonly state: SupervisedState;
  /** Restarts so far (all time). */
  readonly restarts: number;
  readonly pid: number | undefined;
  /** ULID of the running incarnation, once ready. */
  readonly actorId: string | undefined;
  /** Resolves when the current incarnation is ready; rejects if the supervisor gives up. */
  ready(): Promise<void>;
  /** SIGTERM (the actor drains), SIGKILL after `stopTimeoutMs`; no restart. */
  stop(): Promise<void>;
  /**
   * The running process's memory (bytes); with `gc` (default) after a full GC when it was started
   * with `--expose-gc` — a pause of its event loop, so measure without it while timing matters.
   */
  memoryUsage(options?: { gc?: boolean; timeoutMs?: number }): Promise<ProcessMemory>;
}

/**
 * Events: 'ready' (name, actorId, pid), 'exit' (name, code, signal), 'restart' (name, restarts),
 * 'giveup' (name, restarts).
 */
export class Supervisor extends EventEmitter {
  private readonly children = new Map<string, Child>();
  readonly log: Logger;

  /** `log`: the process's logger (default one at LOG_LEVEL). */
  constructor(options: { log?: Logger } = {}) {
    super();
    this.log = (options.log ?? createLogger()).child({ component: 'supervisor' });
  }

  /** Forks the actor process and keeps it alive. */
  start(options: SupervisedActorOptions): SupervisedActor {
    assertToken(options.name, 'actor name');
    const existing = this.children.get(options.name);
    if (existing && existing.state !== 'stopped' && existing.state !== 'failed') {
      throw new ActorStateError(`actor "${options.name}" is already supervised`);
    }
    const child = new Child(this, options);
    this.children.set(options.name, child);
    child.launch();
    return child;
  }

  get(name: string): SupervisedActor | undefined {
    return this.children.get(name);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.children.values()].map((c) => c.stop()));
  }
}

const HOST_SCRIPT = fileURLToPath(new URL('./actor-host.js', import.meta.url));

class Child implements SupervisedActor {
  state: SupervisedState = 'starting';
  restarts = 0;
  actorId: string | undefined;
  private proc: ChildProcess | undefined;
  private restartTimes: number[] = [];
  private readyWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private readonly log: Logger;
  private memorySeq = 0;
  private readonly memoryWaiters = new Map<number, (m: ProcessMemory | Error) => void>();

  constructor(
    private readonly supervisor: Supervisor,
    private readonly options: SupervisedActorOptions,
  ) {
    this.log = supervisor.log.child({ actor: options.name });
  }

  get name(): string {
    return this.options.name;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  launch(): void {
    const o = this.options;
    const args = [
      '--module',
      o.module,
      '--export',
      o.exportName ?? 'default',
      '--name',
      o.name,
      '--args',
      JSON.stringify(o.constructorArgs ?? []),
    ];
    if (o.concurrency) args.push('--concurrency', String(o.concurrency));
    if (o.prefix) args.push('--prefix', o.prefix);
    if (o.heartbeatIntervalMs) args.push('--heartbeat-interval-ms', String(o.heartbeatIntervalMs));
    if (o.heartbeatTtlMs) args.push('--heartbeat-ttl-ms', String(o.heartbeatTtlMs));
    // A restart: the dead incarnation's registry entry goes once the new one is registered.
    if (this.actorId) args.push('--replaces', this.actorId);
    this.actorId = undefined;
    const execArgv = [...process.execArgv, ...(o.execArgv ?? [])];
    const wrap = o.wrap?.length ? o.wrap : undefined;
    const proc = fork(HOST_SCRIPT, args, {
      env: { ...process.env, ...o.env },
      // Wrapped: `<wrap…> node <execArgv> actor-host.js …`; the IPC channel survives the exec.
      ...(wrap ? { execPath: wrap[0], execArgv: [...wrap.slice(1), process.execPath, ...execArgv] } : { execArgv }),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.proc = proc;
    proc.on('message', (msg: HostMessage) => {
      if (msg?.type === 'memory') {
        this.memoryWaiters.get(msg.seq)?.(msg.memory);
        return;
      }
      if (msg?.type !== 'ready') return;
      this.actorId = msg.id;
      this.state = 'running';
      this.log.info({ actorId: msg.id, pid: msg.pid }, 'actor process ready');
      this.supervisor.emit('ready', o.name, msg.id, msg.pid);
      this.settleReady();
    });
    proc.once('exit', (code, signal) => this.exited(proc, code, signal));
  }

  ready(): Promise<void> {
    if (this.state === 'running') return Promise.resolve();
    if (this.state === 'failed') return Promise.reject(new ActorStateError(`supervisor gave up on "${this.name}"`));
    if (this.state === 'stopped' || this.state === 'stopping')
      return Promise.reject(new ActorStateError(`"${this.name}" was stopped`));
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  stop(): Promise<void> {
    this.stopping ??= this.terminate();
    return this.stopping;
  }

  memoryUsage({ gc = true, timeoutMs = 5_000 }: { gc?: boolean; timeoutMs?: number } = {}): Promise<ProcessMemory> {
    const proc = this.proc;
    if (!proc?.connected || this.state !== 'running')
      return Promise.reject(new ActorStateError(`"${this.name}" is not running`));
    const seq = ++this.memorySeq;
    return new Promise<ProcessMemory>((resolve, reject) => {
      const timer = setTimeout(
        () => settle(new ActorStateError(`"${this.name}" did not report its memory within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const settle = (m: ProcessMemory | Error): void => {
        clearTimeout(timer);
        this.memoryWaiters.delete(seq);
        if (m instanceof Error) reject(m);
        else resolve(m);
      };
      this.memoryWaiters.set(seq, settle);
      proc.send({ type: 'memory', seq, gc } satisfies HostMemoryRequest);
    });
  }

  private async terminate(): Promise<void> {
    clearTimeout(this.restartTimer);
    if (this.state === 'failed' || this.state === 'stopped') return;
    this.state = 'stopping';
    this.settleReady(new ActorStateError(`"${this.name}" was stopped`));
    const proc = this.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), this.options.stopTimeoutMs ?? 10_000);
      await exited;
      clearTimeout(timer);
    }
    this.state = 'stopped';
  }

  private exited(proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (proc !== this.proc) return;
    for (const settle of [...this.memoryWaiters.values()]) settle(new ActorStateError(`"${this.name}" exited`));
    this.supervisor.emit('exit', this.name, code, signal);
    if (this.state === 'stopping' || this.state === 'stopped') return;
    if (code === 0) {
      // It chose to stop (e.g. drained on its own SIGTERM): respect that.
      this.log.info('actor process exited cleanly; not restarting');
      this.state = 'stopped';
      this.settleReady(new ActorStateError(`"${this.name}" exited`));
      return;
    }
    const now = Date.now();
    const windowMs = this.options.restartWindowMs ?? 60_000;
    this.restartTimes = this.restartTimes.filter((t) => now - t < windowMs);
    const maxRestarts = this.options.maxRestarts ?? 3;
    if (this.restartTimes.length >= maxRestarts) {
      this.state = 'failed';
      this.log.error(
        { code, signal, restarts: this.restarts },
        'actor process crashed; restart limit reached, giving up',
      );
      this.supervisor.emit('giveup', this.name, this.restarts);
      this.settleReady(new ActorStateError(`supervisor gave up on "${this.name}" after ${this.restarts} restarts`));
      return;
    }
    const base = this.options.backoffMs ?? 100;
    const delay = Math.min(base * 2 ** this.restartTimes.length, this.options.maxBackoffMs ?? 5_000);
    this.restartTimes.push(now);
    this.state = 'restarting';
    this.log.warn({ code, signal, delayMs: delay }, 'actor process crashed; restarting');
    this.restartTimer = setTimeout(() => {
      this.restarts++;
      this.supervisor.emit('restart', this.name, this.restarts);
      this.launch();
    }, delay);
  }

  private settleReady(error?: Error): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) {
      if (error) w.reject(error);
      else w.resolve();
    }
  }
}
