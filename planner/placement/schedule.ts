// Simulating a placement schedule (Clockwork++, adaptive AlpaServe; docs/alpaserve.md, "Placement"):
// each window runs its own placement on the requests arriving in it. A switch costs nothing unless
// the window says how long its groups load (`loading`, the swap cost). With empty queues (the
// paper's Clockwork++) every window starts idle and a loading group's clocks start when it has
// loaded. With carried queues the work accepted before a boundary still holds the devices after
// it (carriedClocks). Windows are simulated separately, with per-request records, and the records
// are merged into one result on the workload's own clock (so trimming and latency quantiles are
// exact across windows).

import { checkTimes } from '../compiled-placement.js';
import { type Profiles, profileMap } from '../profile.js';
import { NO_GROUPS, simResult, sortedLatencies } from '../result.js';
import { Simulator } from '../simulator.js';
import type { Placement, SimOptions, SimResult, Workload } from '../types.js';
import { timeWindow } from '../workload/slice.js';
import { groupOffsets, slotKeys } from './swap-cost.js';
import type { PlacementSchedule } from './types.js';

/** One slot per stage of each group, in placement order (the simulator's clock layout). */
export const stageCount = (p: Placement) => p.groups.reduce((n, g) => n + g.config.pp, 0);

/**
 * When each group of `next` could start at a boundary at `start`, after `prev` left its stages at
 * `prevClocks`: undefined for a group on the same devices with the same config (it keeps its own
 * stage clocks), else when the last device it takes is free (each device is held until the clock
 * of the stage it served), and never before `start`.
 */
function drainTimes(
  prev: Placement,
  prevClocks: Float64Array,
  next: Placement,
  start: number,
): { readonly kept: readonly (number | undefined)[]; readonly drained: readonly number[] } {
  const prevAt = groupOffsets(prev);
  const prevSlots = slotKeys(prev);
  const freeAt: number[] = [];
  const firstClock = new Map<string, number>();
  let c = 0;
  prev.groups.forEach((g, i) => {
    const { pp, op } = g.config;
    firstClock.set(prevSlots[i], c);
    for (let k = 0; k < pp; k++) for (let d = 0; d < op; d++) freeAt[prevAt[i] + k * op + d] = prevClocks[c + k];
    c += pp;
  });
  const nextAt = groupOffsets(next);
  const kept = slotKeys(next).map((slot) => firstClock.get(slot));
  const drained = next.groups.map((g, i) => {
    let t = start;
    for (let d = nextAt[i]; d < nextAt[i] + g.devices; d++) t = Math.max(t, freeAt[d] ?? 0);
    return t;
  });
  return { kept, drained };
}

/**
 * The stage clocks (on the workload's clock) a window starting at `start` with placement `next`
 * starts from, after `prev` left its stages at `prevClocks`. A group on the same devices with the
 * same config that loads nothing keeps its stage clocks; any other group first waits until every
 * device it takes is free (drainTimes), then loads for its `loading` seconds. No clock is before
 * `start`.
 */
export function carriedClocks(
  prev: Placement,
  prevClocks: Float64Array,
  next: Placement,
  loading: readonly number[] | undefined,
  start: number,
): Float64Array {
  if (loading) checkTimes('loading', loading, next.groups.length, 'times', 'groups');
  const { kept, drained } = drainTimes(prev, prevClocks, next, start);
  const out = new Float64Array(stageCount(next));
  let at = 0;
  next.groups.forEach((g, i) => {
    const { pp } = g.config;
    const same = kept[i];
    const load = loading?.[i] ?? 0;
    if (same !== undefined && load === 0)
      for (let k = 0; k < pp; k++) out[at + k] = Math.max(start, prevClocks[same + k]);
    else out.fill(drained[i] + load, at, at + pp);
    at += pp;
  });
  return out;
}

/**
 * The result of running `schedule` on `workload`. Group counters (utilisation, routed, served)
 * are per window and not merged: they are left empty.
 */
export function simulateSchedule(
  schedule: PlacementSchedule,
  profiles: Profiles,
  workload: Workload,
  options: SimOptions = {},
): SimResult {
  const byName = profileMap(profiles);
  const trim = options.trim ?? 0;
  const models = workload.modelNames.length;
  const requests = new Float64Array(models);
  const good = new Float64Array(models);
  const rejected = new Float64Array(models);
  let unplaced = 0;
  const latencies: number[] = [];
  const carried = schedule.queues === 'carried';
  // Carried queues: where the previous window left each stage, on the workload's clock.
  let prev: { placement: Placement; clocks: Float64Array } | undefined;
  for (const win of schedule.windows) {
    const slice = timeWindow(workload, win.start, win.end);
    // Carried: the window starts where the one before left each stage (on the workload's clock).
    const begin = carried
      ? carriedClocks(
          prev?.placement ?? { groups: [] },
          prev?.clocks ?? new Float64Array(0),
          win.placement,
          win.loading,
          win.start,
        )
      : undefined;
    const end = begin && slice.arrival.length ? new Float64Array(begin.length) : undefined;
    if (begin) prev = { placement: win.placement, clocks: end ?? begin }; // end: filled below
    if (slice.arrival.length === 0) continue;
    // The per-run clock buffers are this loop's own, never a caller's.
    const run: SimOptions = {
      ...options,
      trim: 0,
      records: true,
      groupReady: begin ? undefined : win.loading,
      startClocks: begin?.map((t) => t - win.start),
      endClocks: end,
    };
    const r = new Simulator(byName, slice).run(win.placement, run).records!;
    if (end) for (let i = 0; i < end.length; i++) end[i] += win.start;
    for (let i = 0; i < slice.arrival.length; i++) {
      const t = slice.arrival[i] + win.start;
      if (trim > 0 && (t < trim || t > workload.duration - trim)) continue;
      const m = slice.model[i];
      requests[m]++;
      if (Number.isNaN(r.finish[i])) {
        rejected[m]++;
        if (r.group[i] < 0) unplaced++;
      } else {
        latencies.push(r.finish[i] - slice.arrival[i]);
        if (r.good[i]) good[m]++;
      }
    }
  }
  const counts = { modelNames: workload.modelNames, requests, good, rejected, unplaced };
  return simResult(
    counts,
    sortedLatencies(Float64Array.from(latencies).sort()),
    NO_GROUPS,
    Math.max(0, workload.duration - 2 * trim),
  );
}

/** Window boundaries [start, end) covering [0, duration). */
export function windowsOf(duration: number, window: number): { start: number; end: number }[] {
  if (!(window > 0)) throw new Error(`window must be > 0 seconds, got ${window}`);
  const out: { start: number; end: number }[] = [];
  for (let s = 0; s < duration; s += window) out.push({ start: s, end: Math.min(duration, s + window) });
  if (out.length === 0) out.push({ start: 0, end: Math.max(duration, window) });
  return out;
}
