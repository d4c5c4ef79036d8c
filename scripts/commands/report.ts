// The report `meshserve simulate` prints, shared with `replay` and `start` (same format for a
// simulated and a live run of the same scenario), plus the fidelity lines of a live run.

import type { Fidelity, LatencyDiff } from '../../planner/fidelity.js';
import type { SimResult } from '../../planner/types.js';

const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(2)}%` : '-');
const ms = (x: number) => (Number.isFinite(x) ? `${(x * 1e3).toFixed(1)} ms` : '-');

export function printHuman(r: SimResult, policy: string): void {
  console.log(
    `policy ${policy}: ${r.requests} requests, ${r.good} good, ${r.rejected} rejected (${r.unplaced} unplaced)`,
  );
  console.log(`SLO attainment ${pct(r.attainment)}, goodput ${r.goodput.toFixed(2)} req/s`);
  console.log(
    `latency of served requests: mean ${ms(r.latency.mean)}, p50 ${ms(r.latency.p50)}, p90 ${ms(r.latency.p90)}, p99 ${ms(r.latency.p99)}`,
  );
  console.log('per model:');
  for (const m of r.perModel)
    console.log(
      `  ${m.name.padEnd(20)} ${String(m.requests).padStart(8)} requests  attainment ${pct(m.attainment).padStart(8)}  rejected ${m.rejected}`,
    );
  console.log('per group:');
  r.groupUtilisation.forEach((u, g) => {
    console.log(
      `  group ${String(g).padEnd(3)} utilisation ${pct(u).padStart(8)}  routed ${r.groupRouted[g]}  served ${r.groupServed[g]}`,
    );
  });
}

const msSigned = (x: number) => (Number.isFinite(x) ? `${(x * 1e3).toFixed(2)} ms` : '-');

export function printFidelity(f: Fidelity): void {
  const diff = (d: LatencyDiff) =>
    `p50 ${msSigned(d.p50)}, p99 ${msSigned(d.p99)} (${d.compared} requests served by the same group in both, ${d.otherGroup} by another)`;
  console.log('fidelity (live vs simulated, same workload and placement):');
  console.log(
    `  SLO attainment live ${pct(f.liveAttainment)}, simulated ${pct(f.simulatedAttainment)}: difference ${f.attainmentDiffPoints >= 0 ? '+' : ''}${f.attainmentDiffPoints.toFixed(2)} points`,
  );
  console.log(
    `  latency of served requests: live p50 ${ms(f.latency.live.p50)}, p99 ${ms(f.latency.live.p99)}; simulated p50 ${ms(f.latency.simulated.p50)}, p99 ${ms(f.latency.simulated.p99)}`,
  );
  console.log(
    `  runtime overhead per request, live − simulated latency (simulator fed the realized send times; its fixed runtime allowance included): ${diff(f.overhead)}`,
  );
  console.log(
    `  runtime cost over modelled compute + queueing (allowance excluded): p50 ${msSigned(f.cost.p50)}, p99 ${msSigned(f.cost.p99)}`,
  );
  console.log(
    `  against the scheduled trace (sender lag and the routing flips it causes included): ${diff(f.scheduled)}`,
  );
  if (f.inCluster)
    console.log(
      `  inside the cluster (dispatcher-side latency, simulator fed the dispatcher's arrivals): ${diff(f.inCluster)}`,
    );
  console.log(
    `  reply − the dispatcher's own estimate, every served request: p50 ${msSigned(f.overModel.p50)}, p99 ${msSigned(f.overModel.p99)}`,
  );
  console.log(`  admission decisions that differ: ${f.decisionsDiffer}`);
}
