import { writeFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { loadScenarioFile } from '../../planner/scenario.js';
import { DISPATCH_POLICIES, simulate } from '../../planner/simulator.js';
import { recordsToCsv } from '../../planner/records.js';
import type { DispatchPolicy, SimResult } from '../../planner/types.js';

function parsePolicy(v: string): DispatchPolicy {
  if (!(DISPATCH_POLICIES as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${DISPATCH_POLICIES.join(', ')}`);
  return v as DispatchPolicy;
}

const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(2)}%` : '-');
const ms = (x: number) => (Number.isFinite(x) ? `${(x * 1e3).toFixed(1)} ms` : '-');

function printHuman(r: SimResult, policy: string): void {
  console.log(`policy ${policy}: ${r.requests} requests, ${r.good} good, ${r.rejected} rejected (${r.unplaced} unplaced)`);
  console.log(`SLO attainment ${pct(r.attainment)}, goodput ${r.goodput.toFixed(2)} req/s`);
  console.log(`latency of served requests: mean ${ms(r.latency.mean)}, p50 ${ms(r.latency.p50)}, p90 ${ms(r.latency.p90)}, p99 ${ms(r.latency.p99)}`);
  console.log('per model:');
  for (const m of r.perModel) console.log(`  ${m.name.padEnd(20)} ${String(m.requests).padStart(8)} requests  attainment ${pct(m.attainment).padStart(8)}  rejected ${m.rejected}`);
  console.log('per group:');
  r.groupUtilisation.forEach((u, g) => console.log(`  group ${String(g).padEnd(3)} utilisation ${pct(u).padStart(8)}  routed ${r.groupRouted[g]}  served ${r.groupServed[g]}`));
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('simulate a placement on a workload from a scenario file (see README, "Planner: profiles, workloads, simulator")')
    .argument('<scenario>', 'scenario JSON file (e.g. examples/scenario.json)')
    .option('--json', 'print the result as JSON')
    .option('--policy <policy>', `dispatch policy, overriding the scenario's (${DISPATCH_POLICIES.join(', ')})`, parsePolicy)
    .option('--records <file>', 'also write one CSV line per request (arrival, model, slo, group, start, finish, good)')
    .action((file: string, opts: { json?: boolean; policy?: DispatchPolicy; records?: string }) => {
      try {
        const s = loadScenarioFile(file);
        const options = { ...s.options, ...(opts.policy ? { policy: opts.policy } : {}), records: Boolean(opts.records) };
        const { records, ...result } = simulate(s.placement, s.profiles, s.workload, options);
        if (opts.records && records) writeFileSync(opts.records, recordsToCsv(s.workload, records));
        if (opts.json) console.log(JSON.stringify({ policy: options.policy ?? 'earliest-finish', ...result }, null, 2));
        else printHuman(result, options.policy ?? 'earliest-finish');
      } catch (e) {
        console.error(`error: ${(e as Error).message}`);
        process.exitCode = 1;
      }
    });
}
