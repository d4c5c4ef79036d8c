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

/** Compiles a placement into the flat arrays the hot loops use; throws on an invalid placement. */
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
  let clockCount = 0;
  const hostsOf: { group: number; stages: Float64Array }[][] = Array.from({ length: models }, () => []);
  placement.groups.forEach((g, gi) => {
    const { pp, op } = g.config;
    if (!Number.isInteger(pp) || !Number.isInteger(op) || pp < 1 || op < 1)
      throw new Error(`group ${gi}: invalid config pp ${pp}, op ${op}`);
    if (g.devices !== pp * op)
      throw new Error(`group ${gi}: ${g.devices} devices but config pp ${pp} × op ${op} needs ${pp * op}`);
    groupPp[gi] = pp;
    groupClockAt[gi] = clockCount;
    clockCount += pp;
    const seen = new Set<string>();
    for (const name of g.models) {
      if (seen.has(name)) throw new Error(`group ${gi}: model "${name}" listed twice`);
      seen.add(name);
      const profile = profiles.get(name);
      if (!profile) throw new Error(`group ${gi}: no profile for model "${name}"`);
      const cp = configProfile(profile, g.config);
      if (!cp) throw new Error(`group ${gi}: model "${name}" has no profile for pp ${pp}, op ${op}`);
      if (cp.stageLatency.length !== pp)
        throw new Error(`model "${name}": config pp${pp}-op${op} has ${cp.stageLatency.length} stage latencies`);
      const m = modelIndex.get(name);
      if (m === undefined) continue; // no requests for it in this workload
      const factor = 1 + stagePenalty * pp;
      hostsOf[m].push({ group: gi, stages: Float64Array.from(cp.stageLatency, (l) => l * factor) });
    }
  });
  let hosts = 0;
  let stageCount = 0;
  for (const list of hostsOf)
    for (const h of list) {
      hosts++;
      stageCount += h.stages.length;
    }
  const hostStart = new Int32Array(models + 1);
  const hostGroup = new Int32Array(hosts);
  const hostClockAt = new Int32Array(hosts);
  const hostPp = new Int32Array(hosts);
  const hostLastClock = new Int32Array(hosts);
  const hostStageAt = new Int32Array(hosts);
  const hostBusy = new Float64Array(hosts);
  const stages = new Float64Array(stageCount);
  let h = 0;
  let s = 0;
  for (let m = 0; m < models; m++) {
    hostStart[m] = h;
    for (const host of hostsOf[m]) {
      hostGroup[h] = host.group;
      hostClockAt[h] = groupClockAt[host.group];
      hostPp[h] = host.stages.length;
      hostLastClock[h] = hostClockAt[h] + host.stages.length - 1;
      hostStageAt[h] = s;
      stages.set(host.stages, s);
      let busy = 0;
      for (const l of host.stages) busy += l;
      hostBusy[h] = busy;
      s += host.stages.length;
      h++;
    }
  }
  hostStart[models] = h;
  const modelUniform = new Uint8Array(models);
  for (let m = 0; m < models; m++) {
    const list = hostsOf[m];
    modelUniform[m] =
      list.length >= UNIFORM_SCAN_MIN_HOSTS &&
      list.every((x) => x.stages.length === list[0].stages.length && x.stages.every((l, k) => l === list[0].stages[k]))
        ? 1
        : 0;
  }
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

/**
 * The stage clocks a run starts from: group g's at `ready[g]` (0 when absent), so a group that is
 * still loading takes no request before then. Throws on a time the kernel cannot order (negative,
 * not finite) or a length that does not match the placement.
 */
export function startClocks(p: CompiledPlacement, ready: readonly number[] | undefined, clocks: Float64Array): void {
  clocks.fill(0, 0, p.clockCount);
  if (!ready) return;
  if (ready.length !== p.groups)
    throw new Error(`groupReady has ${ready.length} times but the placement has ${p.groups} groups`);
  let at = 0;
  for (let g = 0; g < p.groups; g++) {
    const t = ready[g];
    if (!(t >= 0 && t < Infinity)) throw new Error(`groupReady[${g}] must be a finite time ≥ 0, got ${t}`);
    clocks.fill(t + 0, at, at + p.groupPp[g]);
    at += p.groupPp[g];
  }
}
