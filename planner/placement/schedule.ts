// Simulating a placement schedule (Clockwork++; docs/alpaserve.md, "Placement"): each window runs its own placement on
// the requests arriving in it, with every queue empty at the window start. A switch costs nothing
// unless the window says how long its groups load (`loading`, the swap cost): a loading group's
// clocks start then. Windows are simulated separately, with per-request records,
// and the records are merged into one result on the workload's own clock (so trimming and
// latency quantiles are exact across windows).
import { type Profiles, profileMap } from '../profile.js';
import { NO_GROUPS, simResult, sortedLatencies } from '../result.js';
import { Simulator } from '../simulator.js';
import type { SimOptions, SimResult, Workload } from '../types.js';
import { timeWindow } from '../workload/slice.js';
import type { PlacementSchedule } from './types.js';

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
  for (const win of schedule.windows) {
    const slice = timeWindow(workload, win.start, win.end);
    if (slice.arrival.length === 0) continue;
    const run = { ...options, trim: 0, records: true, groupReady: win.loading };
    const r = new Simulator(byName, slice).run(win.placement, run).records!;
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
