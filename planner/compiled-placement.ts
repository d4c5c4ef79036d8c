// A placement compiled for the simulator's hot loops: flat typed arrays indexed by "host" h =
// one (model, group) pair — the group, its clock offset, its depth and the offset of its penalised
// stage latencies. Hosts of model m are hostStart[m] .. hostStart[m+1], in placement (group) order.
import { configProfile } from './profile.js';
import type { ModelProfile, Placement } from './types.js';

/** A placement compiled against one workload's model indices. */
export interface CompiledPlacement {
  readonly groups: number;
  readonly groupPp: Int32Array;
  readonly clockCount: number;
  readonly hostStart: Int32Array;
  readonly hostGroup: Int32Array;
  readonly hostClockAt: Int32Array;
  readonly hostPp: Int32Array;
  /** Index of the host group's last-stage clock. */
  readonly hostLastClock: Int32Array;
  readonly hostStageAt: Int32Array;
  /** Σ penalised stage latencies of each host: the device-time one request occupies per stage row. */
  readonly hostBusy: Float64Array;
  readonly stages: Float64Array;
  /**
   * 1 when model m has at least UNIFORM_SCAN_MIN_HOSTS hosts, all with the same stage latencies
   * (one config, as in most layouts): no host can exit before a request's no-wait exit, and the
   * first host reaching it wins, so earliest-finish may stop scanning there.
   */
  readonly modelUniform: Uint8Array;
}

/**
 * The early stop pays off only with many hosts per model (placement search: ~13 here); with few,
 * tracking waits costs more than the scan it saves (measured: -8% on `bench simulator`, 4 hosts).
 * Either path picks the same host.
 */
const UNIFORM_SCAN_MIN_HOSTS = 6;

/**
 * Compiles a placement into the flat arrays the hot loops use; throws on an invalid placement.
 * The placement search compiles every candidate it scores, so this builds no object per host: one
 * pass validates and counts, the next writes each host into its model's range, in group order.
 */
export function compilePlacement(
  placement: Placement,
  profiles: ReadonlyMap<string, ModelProfile>,
  modelIndex: ReadonlyMap<string, number>,
  models: number,
  stagePenalty: number,
): CompiledPlacement {
  const groups = placement.groups.length;
  const groupPp = new Int32Array(groups);
  const groupClockAt = new Int32Array(groups);
  const hostStart = new Int32Array(models + 1);
  // The (group, model) pairs with requests, in group order, and their stage latencies.
  const entryGroup: number[] = [];
  const entryModel: number[] = [];
  const entryLatency: (readonly number[])[] = [];
  let clockCount = 0;
  let stageCount = 0;
  for (let gi = 0; gi < groups; gi++) {
    const g = placement.groups[gi];
    const { pp, op } = g.config;
    if (!Number.isInteger(pp) || !Number.isInteger(op) || pp < 1 || op < 1)
      throw new Error(`group ${gi}: invalid config pp ${pp}, op ${op}`);
    if (g.devices !== pp * op)
      throw new Error(`group ${gi}: ${g.devices} devices but config pp ${pp} × op ${op} needs ${pp * op}`);
    groupPp[gi] = pp;
    groupClockAt[gi] = clockCount;
    clockCount += pp;
    const names = g.models;
    for (let j = 0; j < names.length; j++) {
      const name = names[j];
      for (let i = 0; i < j; i++) if (names[i] === name) throw new Error(`group ${gi}: model "${name}" listed twice`);
      const profile = profiles.get(name);
      if (!profile) throw new Error(`group ${gi}: no profile for model "${name}"`);
      const cp = configProfile(profile, g.config);
      if (!cp) throw new Error(`group ${gi}: model "${name}" has no profile for pp ${pp}, op ${op}`);
      if (cp.stageLatency.length !== pp)
        throw new Error(`model "${name}": config pp${pp}-op${op} has ${cp.stageLatency.length} stage latencies`);
      const m = modelIndex.get(name);
      if (m === undefined) continue; // no requests for it in this workload
      entryGroup.push(gi);
      entryModel.push(m);
      entryLatency.push(cp.stageLatency);
      hostStart[m + 1]++;
      stageCount += pp;
    }
  }
  for (let m = 0; m < models; m++) hostStart[m + 1] += hostStart[m];
  const hosts = hostStart[models];
  const hostGroup = new Int32Array(hosts);
  const hostClockAt = new Int32Array(hosts);
  const hostPp = new Int32Array(hosts);
  const hostLastClock = new Int32Array(hosts);
  const hostStageAt = new Int32Array(hosts);
  const hostBusy = new Float64Array(hosts);
  const stages = new Float64Array(stageCount);
  // Where each host's entry is: hosts of model m are hostStart[m].., in group order.
  const hostEntry = new Int32Array(hosts);
  const filled = hostStart.slice(0, models);
  for (let e = 0; e < entryGroup.length; e++) hostEntry[filled[entryModel[e]]++] = e;
  let s = 0;
  for (let h = 0; h < hosts; h++) {
    const e = hostEntry[h];
    const group = entryGroup[e];
    const latency = entryLatency[e];
    const pp = latency.length;
    const factor = 1 + stagePenalty * pp;
    hostGroup[h] = group;
    hostClockAt[h] = groupClockAt[group];
    hostPp[h] = pp;
    hostLastClock[h] = groupClockAt[group] + pp - 1;
    hostStageAt[h] = s;
    let busy = 0;
    for (let k = 0; k < pp; k++) {
      const l = latency[k] * factor;
      stages[s + k] = l;
      busy += l;
    }
    hostBusy[h] = busy;
    s += pp;
  }
  const modelUniform = new Uint8Array(models);
  for (let m = 0; m < models; m++)
    modelUniform[m] = uniformHosts(hostStart[m], hostStart[m + 1], hostPp, hostStageAt, stages);
  return {
    groups,
    groupPp,
    clockCount,
    hostStart,
    hostGroup,
    hostClockAt,
    hostPp,
    hostLastClock,
    hostStageAt,
    hostBusy,
    stages,
    modelUniform,
  };
}

/** 1 when hosts first..end are at least UNIFORM_SCAN_MIN_HOSTS and share their stage latencies. */
function uniformHosts(
  first: number,
  end: number,
  hostPp: Int32Array,
  hostStageAt: Int32Array,
  stages: Float64Array,
): number {
  if (end - first < UNIFORM_SCAN_MIN_HOSTS) return 0;
  const pp = hostPp[first];
  const at = hostStageAt[first];
  for (let h = first + 1; h < end; h++) {
    if (hostPp[h] !== pp) return 0;
    for (let k = 0; k < pp; k++) if (stages[hostStageAt[h] + k] !== stages[at + k]) return 0;
  }
  return 1;
}

/** Checks that a per-run array has `count` entries (`unit` of the placement's `of`). */
export function checkLength(
  name: string,
  values: ArrayLike<number>,
  count: number,
  unit: 'times' | 'slots',
  of: 'groups' | 'stages',
): void {
  if (values.length !== count)
    throw new Error(`${name} has ${values.length} ${unit} but the placement has ${count} ${of}`);
}

/**
 * Checks per-run times the kernel must order: `count` of them (`unit` of the placement's `of`),
 * each finite and ≥ 0. Throws naming `name` and the first bad one.
 */
export function checkTimes(
  name: string,
  times: ArrayLike<number>,
  count: number,
  unit: 'times' | 'slots',
  of: 'groups' | 'stages',
): void {
  checkLength(name, times, count, unit, of);
  for (let i = 0; i < times.length; i++)
    if (!(times[i] >= 0 && times[i] < Infinity))
      throw new Error(`${name}[${i}] must be a finite time ≥ 0, got ${times[i]}`);
}

/**
 * The stage clocks a run starts from: `given` (one per stage), else group g's at `ready[g]` (0 when
 * absent), so a group that is still loading takes no request before then. Throws on a time the
 * kernel cannot order (negative, not finite) or a length that does not match the placement.
 */
export function startClocks(
  p: CompiledPlacement,
  ready: readonly number[] | undefined,
  clocks: Float64Array,
  given?: Float64Array,
): void {
  clocks.fill(0, 0, p.clockCount);
  if (given) {
    if (ready) throw new Error('give groupReady or startClocks, not both');
    checkTimes('startClocks', given, p.clockCount, 'slots', 'stages');
    clocks.set(given);
    return;
  }
  if (!ready) return;
  checkTimes('groupReady', ready, p.groups, 'times', 'groups');
  let at = 0;
  for (let g = 0; g < p.groups; g++) {
    clocks.fill(ready[g] + 0, at, at + p.groupPp[g]);
    at += p.groupPp[g];
  }
}
