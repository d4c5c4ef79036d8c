// `meshserve place <scenario.json>`: places the scenario's models on its cluster with an algorithm
// of the registry, writes the placement in the runtime's format and prints the attainment the
// simulator predicts on the scenario's workload, overall and per model.
import type { Command } from 'commander';
import { writePlacementFile } from '../../dev/placement-file.js';
import { loadScenarioFile } from '../../dev/planner-files.js';
import { placeScenario } from '../../planner/capacity/place.js';
import { algorithmsTaking, describeLayout, placementAlgorithm } from '../../planner/placement/index.js';
import { plural } from '../../planner/plural.js';
import {
  algorithmName,
  algorithmNames,
  departureLoadsOption,
  nonNegativeNumber,
  positiveInt,
  positiveNumber,
  runOrFail,
} from './option-parsers.js';
import { lineProgress } from './progress.js';

interface PlaceOptions {
  algorithm: string;
  out: string;
  json?: boolean;
  beam?: number;
  workers?: number;
  window?: number;
  pastWeight?: number;
  departureLoads?: number;
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function registerPlace(program: Command): void {
  program
    .command('place')
    .description(
      "place a scenario's models on its cluster; write the placement in the runtime's format and print the predicted SLO attainment on its workload",
    )
    .argument(
      '<scenario>',
      'scenario JSON file (the format of `meshserve simulate`; its groups are used by `static` only)',
    )
    .option('--algorithm <name>', `placement algorithm (${algorithmNames().join(', ')})`, algorithmName, 'alpaserve')
    .option('--out <file>', 'where to write the placement', 'placement.json')
    .option('--json', 'print the result as JSON')
    .option(
      '--beam <k>',
      "alpaserve and adaptive: AlpaServe's beam width (1 = the fast greedy; default 3)",
      positiveInt,
    )
    .option(
      '--workers <n>',
      'alpaserve, alpaserve-greedy and adaptive: worker threads for the layout searches (default: none)',
      positiveInt,
    )
    .option('--window <s>', 'clockwork++ and adaptive: seconds between re-placements (default 60)', positiveNumber)
    .addOption(departureLoadsOption())
    .option(
      '--past-weight <w>',
      'adaptive: weight of older traffic in what each re-placement is fitted on (default 1; 0 = the last window alone)',
      nonNegativeNumber,
    )
    .addHelpText(
      'after',
      `
The file is what the planner publishes (docs/runtime.md), on devices gpu-0, gpu-1, … of a local
cluster; \`meshserve replay <scenario> --placement <file>\` and \`meshserve planner --placement <file>\`
take it as it is.`,
    )
    .action((file: string, o: PlaceOptions) =>
      runOrFail('place', async () => {
        const algorithm = placementAlgorithm(o.algorithm);
        for (const [flag, option] of [
          ['--beam', 'beam'],
          ['--workers', 'workers'],
          ['--window', 'window'],
          ['--past-weight', 'pastWeight'],
          ['--departure-loads', 'departureLoads'],
        ] as const)
          if (o[option] !== undefined && !algorithm.takes?.includes(option))
            throw new Error(`${flag} applies to ${algorithmsTaking(option).join(' and ')}, not to ${o.algorithm}`);
        const scenario = loadScenarioFile(file);
        const progress = lineProgress();
        progress.note(
          `placing ${scenario.profiles.length} models on ${scenario.cluster.devices} devices with ${o.algorithm}…`,
        );
        const started = Date.now();
        const { result, predicted, online } = await placeScenario(
          scenario,
          o.algorithm,
          {
            ...(o.beam !== undefined ? { beam: o.beam } : {}),
            ...(o.workers !== undefined ? { workers: o.workers } : {}),
            ...(o.window !== undefined ? { window: o.window } : {}),
            ...(o.pastWeight !== undefined ? { pastWeight: o.pastWeight } : {}),
            ...(o.departureLoads !== undefined ? { departureLoads: o.departureLoads } : {}),
            onProgress: (p) =>
              progress.update(
                `  ${p.phase === 'greedy' ? 'fast greedy' : 'beam search'}: ${p.done}/${p.total} layouts searched (${((Date.now() - started) / 1000).toFixed(0)} s)`,
              ),
          },
          (done, total) =>
            progress.update(
              `  online replay: ${done}/${total} windows decided (${((Date.now() - started) / 1000).toFixed(0)} s)`,
            ),
        );
        progress.done();
        progress.note(
          `placed in ${((Date.now() - started) / 1000).toFixed(1)} s (${result.stats.simulations} simulations)`,
        );
        const runtime = writePlacementFile(o.out, result.placement, {
          strategy: result.algorithm,
          reason: `meshserve place ${file}`,
          profiles: scenario.profiles,
          sim: scenario.options,
        });
        const devices = runtime.groups.reduce((n, g) => n + g.config.pp * g.config.op, 0);
        const layout = describeLayout(result.placement.groups.map((g) => g.config));
        if (o.json) {
          console.log(
            JSON.stringify(
              {
                algorithm: result.algorithm,
                devices,
                layout,
                placement: o.out,
                windows: result.schedule?.windows.length ?? online?.windows,
                switches: online?.switches,
                attainment: predicted.attainment,
                requests: predicted.requests,
                perModel: predicted.perModel.map((m) => ({
                  name: m.name,
                  requests: m.requests,
                  attainment: m.attainment,
                })),
                groups: runtime.groups.map((g) => ({ config: g.config, models: g.models })),
              },
              null,
              2,
            ),
          );
          return;
        }
        console.log(
          `${result.algorithm}: ${runtime.groups.length} groups on ${devices} of ${scenario.cluster.devices} devices, ${layout || 'nothing placed'}`,
        );
        for (const [i, g] of runtime.groups.entries())
          console.log(
            `  group ${i}: pp ${g.config.pp}, op ${g.config.op}: ${g.models.join(', ') || '(no model fits)'}`,
          );
        if (result.schedule)
          console.log(
            `  re-placed on each of ${result.schedule.windows.length} windows; the attainment below runs that schedule, the file holds its first window`,
          );
        if (online)
          console.log(
            `  re-placed online every ${result.online!.options.window} s from the traffic before each window: ${plural(online.switches, 'switch', 'switches')} in ${plural(online.windows, 'window')}; the attainment below runs that policy, the file holds the starting placement`,
          );
        console.log(
          `predicted SLO attainment on the scenario's workload: ${pct(predicted.attainment)} of ${predicted.requests} requests`,
        );
        for (const m of predicted.perModel)
          console.log(
            `  ${m.name.padEnd(24)} ${pct(m.attainment).padStart(8)}  of ${String(m.requests).padStart(7)} requests`,
          );
        console.log(`wrote ${o.out}`);
      }),
    );
}
