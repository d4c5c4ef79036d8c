// The all-gather between the shards of one sharded stage (op > 1), for the GPU worker: each shard
// publishes its partial result of segment i of request rid on `ms.group.<g>.stage.<k>.reduce.<shard>`
// and waits for the other shards' partials of the same (rid, i) before segment i + 1.
//
// Shards run the same requests but not in lock-step, so a peer's partial may arrive before this
// shard reached the segment (it is kept by rid and segment until asked for). A job that has to
// wait says so (`waiting`), and the worker lets the device start its next job meanwhile: two
// stages that share devices in opposite shard roles (an old and a new placement), or requests
// that reached the shards in different orders (two dispatchers), then cannot deadlock.
import type { ShardExchange } from '../executors/stage-executor.js';
import type { StagePartial } from '../protocol/messages.js';

export interface ShardGatherOptions {
  shard: number;
  shards: number;
  /** Sends a message to this shard's `.reduce.<shard>` subject; may throw (e.g. over the max payload). */
  publish(message: StagePartial): void;
  /** How long a shard waits for its peers' partials of one segment (ms). */
  timeoutMs: number;
}

interface Waiter {
  segment: number;
  resolve(parts: unknown[]): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

interface RequestParts {
  /** segment → partials by shard, and how many have arrived. */
  readonly segments: Map<number, { parts: unknown[]; count: number }>;
  waiter?: Waiter;
  /** A peer gave up on this request. */
  peerError?: string;
  /** A job of this shard holds it (it is not swept while running). */
  running: boolean;
  touched: number;
}

/** One job's side of the exchange, and a promise resolved the first time it has to wait. */
export interface JobExchange {
  readonly exchange: ShardExchange;
  readonly waiting: Promise<void>;
}

export class ShardGather {
  private readonly requests = new Map<string, RequestParts>();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: ShardGatherOptions) {}

  forJob(rid: string): JobExchange {
    const r = this.#parts(rid);
    r.running = true;
    let signalWait!: () => void;
    const waiting = new Promise<void>((resolve) => (signalWait = resolve));
    const { shard, shards } = this.o;
    const exchange: ShardExchange = {
      shard,
      shards,
      allGather: (segment, partial) => {
        if (r.peerError) return Promise.reject(new Error(r.peerError));
        this.o.publish({ rid, segment, shard, partial });
        const seg = this.#segment(r, segment);
        this.#add(seg, shard, partial);
        if (seg.count === shards) return Promise.resolve(this.#take(r, segment));
        signalWait();
        return new Promise<unknown[]>((resolve, reject) => {
          const timer = setTimeout(() => {
            r.waiter = undefined;
            const missing = Array.from(seg.parts.keys()).filter((j) => seg.parts[j] === undefined);
            reject(
              new Error(
                `no partial result of segment ${segment} from shard ${missing.join(', ')} within ${this.o.timeoutMs} ms`,
              ),
            );
          }, this.o.timeoutMs);
          r.waiter = { segment, resolve, reject, timer };
        });
      },
    };
    return { exchange, waiting };
  }

  /** A message from a peer's `.reduce.<shard>` subject (this shard's own are ignored). */
  receive(m: StagePartial): void {
    if (m.shard === this.o.shard || m.shard >= this.o.shards) return;
    const r = this.#parts(m.rid);
    if (m.error !== undefined) {
      r.peerError ??= `shard ${m.shard}: ${m.error}`;
      if (r.waiter) this.#settle(r, (w) => w.reject(new Error(r.peerError)));
      return;
    }
    const seg = this.#segment(r, m.segment);
    this.#add(seg, m.shard, m.partial);
    if (r.waiter?.segment === m.segment && seg.count === this.o.shards) {
      const parts = this.#take(r, m.segment);
      this.#settle(r, (w) => w.resolve(parts));
    }
  }

  /** The job of rid finished here: forget it. */
  release(rid: string): void {
    const r = this.requests.get(rid);
    if (r?.waiter) clearTimeout(r.waiter.timer);
    this.requests.delete(rid);
  }

  /** This shard gave up on rid: unless a peer failed first, tell the peers so they stop waiting. */
  abort(rid: string, error: string): void {
    const peerFailed = this.requests.get(rid)?.peerError !== undefined;
    this.release(rid);
    if (!peerFailed) this.o.publish({ rid, segment: 0, shard: this.o.shard, error });
  }

  /** The stage is unloaded: every waiting job fails. */
  close(): void {
    clearInterval(this.sweepTimer);
    for (const r of this.requests.values()) if (r.waiter) this.#settle(r, (w) => w.reject(new Error('stage unloaded')));
    this.requests.clear();
  }

  #parts(rid: string): RequestParts {
    let r = this.requests.get(rid);
    if (!r) {
      r = { segments: new Map(), running: false, touched: Date.now() };
      this.requests.set(rid, r);
      this.#startSweep();
    }
    r.touched = Date.now();
    return r;
  }

  #segment(r: RequestParts, segment: number): { parts: unknown[]; count: number } {
    let seg = r.segments.get(segment);
    if (!seg) {
      seg = { parts: new Array(this.o.shards), count: 0 };
      r.segments.set(segment, seg);
    }
    return seg;
  }

  #add(seg: { parts: unknown[]; count: number }, shard: number, partial: unknown): void {
    if (seg.parts[shard] !== undefined) return; // a duplicate
    seg.parts[shard] = partial;
    seg.count++;
  }

  #take(r: RequestParts, segment: number): unknown[] {
    const parts = r.segments.get(segment)!.parts;
    r.segments.delete(segment);
    return parts;
  }

  #settle(r: RequestParts, how: (w: Waiter) => void): void {
    const w = r.waiter!;
    r.waiter = undefined;
    clearTimeout(w.timer);
    how(w);
  }

  /** Partials of requests this shard never runs (or finished already) would pile up: drop stale ones. */
  #startSweep(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setInterval(() => {
      const stale = Date.now() - 2 * this.o.timeoutMs;
      for (const [rid, r] of this.requests) if (!r.running && r.touched < stale) this.requests.delete(rid);
      if (this.requests.size === 0) {
        clearInterval(this.sweepTimer);
        this.sweepTimer = undefined;
      }
    }, this.o.timeoutMs);
    this.sweepTimer.unref();
  }
}
