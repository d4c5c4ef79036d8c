// What `meshserve plan` shows and writes, as text: the JSON answer, the table, the curve as CSV
// and SVG, and a scenario per system that `meshserve place` and `meshserve replay` take.
import { lineChartSvg } from '../experiments/svg-plot.js';
import { describeLayout } from '../placement/index.js';
import { plural } from '../plural.js';
import type { ScenarioFile } from '../scenario.js';
import type { Plan } from './plan-file.js';
import type { PlanOutcome, SystemPlan } from './search.js';

/** `--json`: `{ target, systems: [{ name, devices, attainment, placement, curve }] }` (+ `at` when asked). */
export function planJson(plan: Plan, outcome: PlanOutcome, placementFile: (system: string) => string): unknown {
  return {
    target: plan.target,
    systems: outcome.systems.map((s) => ({
      name: s.name,
      devices: s.devices,
      attainment: s.chosen.attainment,
      placement: placementFile(s.name),
      curve: s.curve.map((p) => [p.devices, p.attainment]),
    })),
    ...(outcome.at
      ? {
          at: outcome.at.map((a) => ({
            name: a.name,
            devices: a.point.devices,
            attainment: a.point.attainment,
            rateHeadroom: a.headroom?.rate ?? null,
            cvHeadroom: a.headroom?.cv ?? null,
          })),
        }
      : {}),
  };
}

export function planCsv(outcome: PlanOutcome): string {
  const rows = outcome.systems.flatMap((s) => s.curve.map((p) => `${s.name},${p.devices},${p.attainment}`));
  return `system,devices,attainment\n${rows.join('\n')}\n`;
}

const label = (s: SystemPlan) => (s.oracle ? `${s.name} (oracle)` : s.name);

export function planSvg(plan: Plan, outcome: PlanOutcome): string {
  const { test } = outcome.split;
  return lineChartSvg({
    title: 'SLO attainment against devices',
    subtitle: `${plan.profiles.length} models, ${fmt(plan.memoryPerDevice / 2 ** 30)} GiB per device; scored on ${test.arrival.length} held-out requests (${fmt(test.duration)} s)`,
    xLabel: 'devices',
    yLabel: 'SLO attainment (fraction of requests)',
    series: outcome.systems.map((s) => ({ name: label(s), points: s.curve.map((p) => [p.devices, p.attainment]) })),
    // From a tenth below the lowest point (at most 0.9), so curves near the target stay apart.
    yRange: [
      Math.min(
        0.9,
        Math.floor(Math.min(...outcome.systems.flatMap((s) => s.curve.map((p) => p.attainment))) * 10) / 10,
      ),
      1,
    ],
    yLine: plan.target,
    yLineLabel: `target: ${pct(plan.target)} of requests within their SLO`,
  });
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/** What a system's placement file holds when the system re-places over time. */
function placementNote(point: SystemPlan['chosen']): string {
  if (point.online)
    return ` (its starting placement; re-placed online, ${plural(point.online.switches, 'switch', 'switches')} in ${plural(point.online.windows, 'window')} of the held-out traffic)`;
  const windows = point.result.schedule?.windows.length;
  return windows ? ` (the first of its ${plural(windows, 'window')})` : '';
}
const fmt = (x: number) => String(Number(x.toPrecision(4)));
const times = (k: number, limit: number) => (k >= limit ? `≥ ×${fmt(limit)}` : `×${k.toFixed(2)}`);

/** The text report: the answer per system, the curves side by side, the inverse question. */
export function planLines(plan: Plan, outcome: PlanOutcome, placementFile: (system: string) => string): string[] {
  const { train, test } = outcome.split;
  const range = `${plan.candidates[0]}..${plan.candidates[plan.candidates.length - 1]}`;
  const lines = [
    `target: ${pct(plan.target)} of requests within their SLO; placements fitted on the first ${fmt(train.duration)} s of the traffic (${train.arrival.length} requests), scored on the ${fmt(test.duration)} s held out after it (${test.arrival.length} requests)`,
    '',
    'the fewest devices that reach the target, per system (- = not reached):',
    `${'system'.padEnd(30)} ${'devices'.padStart(8)}  ${'attainment'.padStart(10)}  layout`,
  ];
  for (const s of outcome.systems) {
    const devices = s.devices === null ? '-' : String(s.devices);
    lines.push(
      `${label(s).padEnd(30)} ${devices.padStart(8)}  ${pct(s.chosen.attainment).padStart(10)}  ${describeLayout(s.chosen.result.placement.groups.map((g) => g.config)) || '-'}`,
    );
  }
  for (const s of outcome.systems)
    if (s.devices === null)
      lines.push(
        `${s.name}: the target is not reached in ${range} devices; the best is ${pct(s.chosen.attainment)} at ${s.chosen.devices}`,
      );
  if (outcome.systems.some((s) => s.oracle))
    lines.push('an oracle is placed on the held-out traffic itself (it re-places per window knowing the future)');
  lines.push('', 'attainment on the held-out traffic by devices (- = not evaluated):');
  const counts = [...new Set(outcome.systems.flatMap((s) => s.curve.map((p) => p.devices)))].sort((a, b) => a - b);
  const width = Math.max(12, ...outcome.systems.map((s) => s.name.length + 2));
  lines.push(`${'devices'.padStart(8)}${outcome.systems.map((s) => s.name.padStart(width)).join('')}`);
  for (const n of counts)
    lines.push(
      `${String(n).padStart(8)}${outcome.systems
        .map((s) => {
          const p = s.curve.find((q) => q.devices === n);
          return (p ? pct(p.attainment) : '-').padStart(width);
        })
        .join('')}`,
    );
  if (outcome.at) {
    lines.push(
      '',
      `at ${outcome.at[0].point.devices} devices: attainment, and how much more traffic the placement takes before it falls under the target:`,
    );
    for (const a of outcome.at) {
      const h = a.headroom;
      lines.push(
        `  ${a.name.padEnd(28)} ${pct(a.point.attainment).padStart(8)}  ${
          !h
            ? 'n/a (an oracle is placed on the held-out traffic itself)'
            : a.point.attainment < plan.target
              ? 'already under the target'
              : `rate ${times(h.rate, h.limit)}, CV ${h.cv === undefined ? 'n/a (a recorded trace keeps its arrivals)' : times(h.cv, h.limit)}`
        }`,
      );
    }
  }
  lines.push('', 'placements:');
  for (const s of outcome.systems)
    lines.push(`  ${s.name.padEnd(28)} ${placementFile(s.name)}${placementNote(s.chosen)}`);
  return lines;
}

/**
 * A scenario of the plan at a system's chosen count (its groups, the plan's models, traffic and
 * SLOs), for `meshserve place` and `meshserve replay`; `rebase` rewrites the traffic's file paths
 * for the scenario's folder. Undefined when nothing was placed (a scenario needs a group).
 */
export function planScenario(plan: Plan, s: SystemPlan, rebase: (path: string) => string): ScenarioFile | undefined {
  const groups = s.chosen.result.placement.groups;
  if (!groups.length) return undefined;
  const t = plan.traffic;
  const traffic =
    'trace' in t ? { ...t, trace: rebase(t.trace) } : 'azure' in t && t.file ? { ...t, file: rebase(t.file) } : t;
  const names = plan.profiles.map((p) => p.name);
  return {
    cluster: { devices: s.chosen.devices, memoryPerDeviceGiB: plan.memoryPerDevice / 2 ** 30 },
    // Profiles inline, so the scenario stands alone (readonly arrays are what the schema reads).
    models: plan.profiles.map((profile) => ({ profile }) as ScenarioFile['models'][number]),
    groups: groups.map((g) => ({ config: g.config, models: [...g.models] })),
    workload: traffic,
    ...(plan.slos
      ? {
          slo: {
            seconds: plan.slos[0],
            perModel: Object.fromEntries(names.map((m, i) => [m, (plan.slos as readonly number[])[i]])),
          },
        }
      : {}),
    ...(Object.keys(plan.sim).length ? { sim: plan.sim } : {}),
  };
}
