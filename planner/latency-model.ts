// The one latency model shared by the simulator, placement search and the runtime dispatcher's
// finish-time estimate (docs/alpaserve.md, "The reference simulator"):
//   - a group keeps one clock per pipeline stage: the time that stage becomes free;
//   - a request arriving at t passes the stages in order: x = max(x, clock[k]) + stage[k];
//   - its finish is the last x plus a fixed per-request overhead;
//   - stage latencies carry a calibrated pipeline penalty: profiled × (1 + stagePenalty · pp),
//     applied at pp = 1 as well.
// The functions work on flat arrays with offsets so the simulator's hot loop can use them on its
// packed buffers (V8 inlines them); `GroupClocks` wraps them for one group, one request at a time.
import { configProfile, type Profiles, profileMap } from './profile.js';
import type { ConfigProfile, GroupSpec } from './types.js';

/** The reference's calibrated pipeline penalty per stage. */
export const REFERENCE_STAGE_PENALTY = 0.009;
/** The reference's fixed per-request overhead (HTTP + dispatch + runtime), seconds. */
export const REFERENCE_OVERHEAD = 0.011;

export interface LatencyParams {
  /** Per-stage pipeline penalty; default REFERENCE_STAGE_PENALTY. */
  readonly stagePenalty?: number;
  /** Fixed per-request overhead, seconds; default REFERENCE_OVERHEAD. */
  readonly overhead?: number;
}

/** The stage latencies a request actually sees on a group: profiled × (1 + penalty · pp). */
export function penalisedStages(config: ConfigProfile, stagePenalty = REFERENCE_STAGE_PENALTY): Float64Array {
  const factor = 1 + stagePenalty * config.pp;
  const out = new Float64Array(config.stageLatency.length);
  for (let k = 0; k < out.length; k++) out[k] = config.stageLatency[k] * factor;
  return out;
}

/**
 * When the last stage would finish a request arriving at `t` (without the overhead), given the
 * stage clocks at `clocks[clockAt .. clockAt+pp)` and stage latencies at `stages[stageAt ..)`.
 * Reads only: the clocks are left as they were.
 */
export function tentativeExit(
  clocks: ArrayLike<number>,
  clockAt: number,
  stages: ArrayLike<number>,
  stageAt: number,
  pp: number,
  t: number,
): number {
  let x = t;
  for (let k = 0; k < pp; k++) {
    const free = clocks[clockAt + k];
    if (free > x) x = free;
    x += stages[stageAt + k];
  }
  return x;
}

/** Like tentativeExit, but moves the stage clocks forward (the request is accepted). Returns the exit time. */
export function commitExit(
  clocks: Float64Array,
  clockAt: number,
  stages: ArrayLike<number>,
  stageAt: number,
  pp: number,
  t: number,
): number {
  let x = t;
  for (let k = 0; k < pp; k++) {
    const free = clocks[clockAt + k];
    if (free > x) x = free;
    x += stages[stageAt + k];
    clocks[clockAt + k] = x;
  }
  return x;
}

/**
 * The clocks of one group, for callers that see one request at a time (the runtime dispatcher,
 * tests). Stage latencies are passed per call because a group hosts several models.
 */
export class GroupClocks {
  readonly clocks: Float64Array;
  readonly overhead: number;

  constructor(
    readonly pp: number,
    params: LatencyParams = {},
  ) {
    if (!Number.isInteger(pp) || pp < 1) throw new Error(`pipeline depth must be a positive integer, got ${pp}`);
    this.clocks = new Float64Array(pp);
    this.overhead = params.overhead ?? REFERENCE_OVERHEAD;
  }

  /** Estimated finish (including the overhead) of a request arriving at t; changes nothing. */
  tentativeFinish(stages: ArrayLike<number>, t: number): number {
    this.checkStages(stages);
    return tentativeExit(this.clocks, 0, stages, 0, this.pp, t) + this.overhead;
  }

  /** Accepts a request arriving at t: advances the clocks, returns its finish (including the overhead). */
  commit(stages: ArrayLike<number>, t: number): number {
    this.checkStages(stages);
    return commitExit(this.clocks, 0, stages, 0, this.pp, t) + this.overhead;
  }

  /** Time the first stage becomes free. */
  get firstStageFree(): number {
    return this.clocks[0];
  }

  /** Time the last stage becomes free. */
  get lastStageFree(): number {
    return this.clocks[this.pp - 1];
  }

  /**
   * Pulls every clock back to at most `t` (e.g. the group reported it is idle at t, earlier than
   * estimated). Never moves a clock forward.
   */
  idleAt(t: number): void {
    for (let k = 0; k < this.pp; k++) if (this.clocks[k] > t) this.clocks[k] = t;
  }

  reset(): void {
    this.clocks.fill(0);
  }

  private checkStages(stages: ArrayLike<number>): void {
    if (stages.length !== this.pp) throw new Error(`expected ${this.pp} stage latencies, got ${stages.length}`);
  }
}

/**
 * A group's clocks plus the penalised stage latencies of every model it hosts: what the runtime
 * dispatcher keeps per mesh group to estimate finish times by model name.
 */
export class GroupLatencyModel {
  readonly clocks: GroupClocks;
  private readonly stagesByModel = new Map<string, Float64Array>();

  constructor(group: Pick<GroupSpec, 'config' | 'models'>, profiles: Profiles, params: LatencyParams = {}) {
    this.clocks = new GroupClocks(group.config.pp, params);
    const byName = profileMap(profiles);
    for (const name of group.models) {
      const p = byName.get(name);
      const c = p && configProfile(p, group.config);
      if (!c) throw new Error(`model "${name}" has no profile for pp ${group.config.pp}, op ${group.config.op}`);
      this.stagesByModel.set(name, penalisedStages(c, params.stagePenalty ?? REFERENCE_STAGE_PENALTY));
    }
  }

  hosts(model: string): boolean {
    return this.stagesByModel.has(model);
  }

  /** Estimated finish (including the overhead) of `model` arriving at t; changes nothing. */
  tentativeFinish(model: string, t: number): number {
    return this.clocks.tentativeFinish(this.stages(model), t);
  }

  /** Books `model` arriving at t on this group; returns its estimated finish. */
  commit(model: string, t: number): number {
    return this.clocks.commit(this.stages(model), t);
  }

  private stages(model: string): Float64Array {
    const s = this.stagesByModel.get(model);
    if (!s) throw new Error(`this group does not host model "${model}"`);
    return s;
  }
}
