import { writeFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { loadScenarioFile } from '../../dev/planner-files.js';
import { recordsToCsv } from '../../planner/records.js';
import { DISPATCH_POLICIES, simulate } from '../../planner/simulator.js';
import type { DispatchPolicy } from '../../planner/types.js';
import { fail } from './errors.js';
import { printHuman } from './report.js';

function parsePolicy(v: string): DispatchPolicy {
  if (!(DISPATCH_POLICIES as readonly string[]).includes(v))
    throw new InvalidArgumentError(`expected one of ${DISPATCH_POLICIES.join(', ')}`);
  return v as DispatchPolicy;
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('simulate a placement on a workload from a scenario file (the format: docs/planner.md)')
    .argument('<scenario>', 'scenario JSON file (e.g. examples/scenario.json)')
    .option('--json', 'print the result as JSON')
    .option(
      '--policy <policy>',
      `dispatch policy, overriding the scenario's (${DISPATCH_POLICIES.join(', ')})`,
      parsePolicy,
    )
    .option('--records <file>', 'also write one CSV line per request (arrival, model, slo, group, start, finish, good)')
    .action((file: string, opts: { json?: boolean; policy?: DispatchPolicy; records?: string }) => {
      try {
        const s = loadScenarioFile(file);
        const options = {
          ...s.options,
          ...(opts.policy ? { policy: opts.policy } : {}),
          records: Boolean(opts.records),
        };
        const { records, ...result } = simulate(s.placement, s.profiles, s.workload, options);
        if (opts.records && records) writeFileSync(opts.records, recordsToCsv(s.workload, records));
        if (opts.json) console.log(JSON.stringify({ policy: options.policy ?? 'earliest-finish', ...result }, null, 2));
        else printHuman(result, options.policy ?? 'earliest-finish');
      } catch (e) {
        fail('simulate', e);
      }
    });
}
