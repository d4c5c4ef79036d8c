// What `meshserve start` prints: the banner once the cluster is placed (where it is, how to reach
// it from another terminal, the dashboard), and the demo's report: one headline (requests,
// attainment live vs simulated, p99), the details under --verbose.
import { redactUrl } from '../../bus/index.js';
import type { ClusterReady } from '../../dev/local-run.js';
import type { ScenarioReplayResult } from '../../dev/scenario-replay.js';
import { STATUS_ERROR, STATUS_OK, STATUS_REJECTED } from '../../planner/fidelity.js';
import { naturalOrder } from '../../serving/natural-order.js';
import { servedInputs } from '../../serving/protocol/served-inputs.js';
import { printFidelity, printHuman } from './report.js';

const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(2)}%` : '-');
const ms = (x: number) => (Number.isFinite(x) ? `${(x * 1e3).toFixed(0)} ms` : '-');
/** `1 model`, `2 models`. */
const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** One line per group: id, (pp, op), devices, models. */
export function describePlacementLines(p: ClusterReady['placement']): string[] {
  return p.groups.map(
    (g) =>
      `  ${g.id.padEnd(6)} (pp ${g.config.pp}, op ${g.config.op})  ${g.devices.flat().join(',').padEnd(24)} ${count(g.models.length, 'model')}`,
  );
}

/** `--tensor <shape> ` for the Python example when the model takes one tensor (ONNX), else nothing. */
function pythonTensor(p: ClusterReady['placement'], model: string | undefined): string {
  const profile = p.profiles.find((m) => m.name === model);
  const inputs = profile && servedInputs(profile);
  return inputs?.length === 1 ? `--tensor ${inputs[0].shape.join(',')} ` : '';
}

/** The banner: what is served, and how to reach it (the export line is for copy and paste). */
export function bannerLines(r: ClusterReady): string[] {
  const models = [...new Set(r.placement.groups.flatMap((g) => g.models))].sort(naturalOrder);
  const lines = [
    '',
    `meshserve is serving ${count(models.length, 'model')} on ${count(r.placement.groups.length, 'mesh group')} (placement v${r.placement.version}, ${r.placement.strategy}):`,
    ...describePlacementLines(r.placement),
    '',
  ];
  if (r.dashboardUrl) lines.push(`  dashboard:  ${r.dashboardUrl}   (Prometheus: ${r.dashboardUrl}metrics)`);
  lines.push(`  servers:    ${redactUrl(r.natsUrl)}, ${redactUrl(r.redisUrl)}`);
  if (r.recordFile)
    lines.push(
      `  try, in another terminal in this directory (they find the cluster through ${r.recordFile}):`,
      `    npx meshserve status`,
      `    npx meshserve infer ${models[0] ?? '<model>'}`,
      `    python3 examples/python_client.py ${pythonTensor(r.placement, models[0])}${models[0] ?? '<model>'}`,
    );
  lines.push(
    '  or from anywhere, after:',
    // The real URLs: this line is for pasting (the servers' passwords, if any, are the user's own).
    `    export NATS_URL=${r.natsUrl} REDIS_URL=${r.redisUrl}`,
    '',
  );
  return lines;
}

/** Requests answered ok, rejected and with an error, and those that got no reply. */
function outcomeCounts(status: ArrayLike<number>): { ok: number; rejected: number; errors: number; none: number } {
  const c = { ok: 0, rejected: 0, errors: 0, none: 0 };
  for (let i = 0; i < status.length; i++) {
    if (status[i] === STATUS_OK) c.ok++;
    else if (status[i] === STATUS_REJECTED) c.rejected++;
    else if (status[i] === STATUS_ERROR) c.errors++;
    else c.none++;
  }
  return c;
}

/** The demo's headline: every request accounted for, attainment live vs simulated, p99. */
export function headlineLines(r: ScenarioReplayResult): string[] {
  const c = outcomeCounts(r.live.status);
  const f = r.fidelity;
  const total = r.live.status.length;
  const noReply = c.none ? `, ${c.none} no reply` : '';
  return [
    `demo result: ${total} requests: ${c.ok} ok, ${c.rejected} rejected, ${c.errors} errors${noReply}`,
    `  SLO attainment: live ${pct(f.liveAttainment)}, simulated ${pct(f.simulatedAttainment)} (same requests, same placement)`,
    `  p99 latency of served requests: live ${ms(f.latency.live.p99)}, simulated ${ms(f.latency.simulated.p99)}`,
  ];
}

/** The report after the demo: the headline, then the details when `verbose`. */
export function printDemoReport(r: ScenarioReplayResult, verbose: boolean): void {
  for (const line of headlineLines(r)) console.log(line);
  if (!verbose) {
    console.log('  (--verbose: per model, per group, and how closely the live run followed the simulator)');
    return;
  }
  if (r.live.errors.size) console.log(`errors: ${[...r.live.errors].map(([why, n]) => `${n}× ${why}`).join('; ')}`);
  console.log('live run, in the report format of `meshserve simulate`:');
  printHuman(r.liveSummary, 'earliest-finish');
  printFidelity(r.fidelity);
}
