// The leader (shard 0) of a sharded stage gathers every shard's report of a request — its part of
// the output, when it started and finished, or its error — and the stage is done once all `op`
// shards have reported. Reports whose peers never follow (a shard died, a report was lost) are
// dropped after a while.
import type { StageWork } from '../protocol/messages.js';

/** Reports older than this are dropped (ms). */
const REPORTS_TTL_MS = 60_000;

export interface ShardReport {
  readonly shard: number;
  readonly output?: unknown;
  readonly start: number;
  readonly finish: number;
  readonly error?: string;
}

/** A request whose every shard reported. */
export interface StageOutcome {
  readonly work: StageWork;
  /** Outputs in shard order. */
  readonly outputs: unknown[];
  readonly start: number;
  readonly finish: number;
  /** The first shard error, if any. */
  readonly error?: string;
}

interface Pending {
  work?: StageWork;
  readonly outputs: unknown[];
  /** Shards that reported (a repeated report is ignored). */
  readonly reported: Set<number>;
  readonly createdAt: number;
  start: number;
  finish: number;
  error?: string;
}

export class StageReports {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly shards: number) {}

  /** Adds one shard's report of `rid` (with the work itself from the leader's own run); the outcome once all are in. */
  add(rid: string, part: ShardReport, work: StageWork | undefined): StageOutcome | undefined {
    let r = this.pending.get(rid);
    if (!r) {
      r = {
        outputs: new Array(this.shards),
        reported: new Set(),
        createdAt: Date.now(),
        start: part.start,
        finish: part.finish,
      };
      this.pending.set(rid, r);
    }
    if (r.reported.has(part.shard)) return undefined;
    if (work) r.work = work;
    r.outputs[part.shard] = part.output;
    r.reported.add(part.shard);
    r.start = Math.min(r.start, part.start);
    r.finish = Math.max(r.finish, part.finish);
    if (part.error) r.error ??= `shard ${part.shard}: ${part.error}`;
    if (r.reported.size < this.shards || !r.work) return undefined;
    this.pending.delete(rid);
    return {
      work: r.work,
      outputs: r.outputs,
      start: r.start,
      finish: r.finish,
      ...(r.error ? { error: r.error } : {}),
    };
  }

  dropStale(now: number = Date.now()): void {
    const oldest = now - REPORTS_TTL_MS;
    for (const [rid, r] of this.pending) if (r.createdAt < oldest) this.pending.delete(rid);
  }
}
