// `meshserve serve <repository>` (and `npm start -- --models`) as a function: import whatever is
// new or changed in a model repository (by sha256), write each profile beside its model and to
// Redis, hand the planner actor the models with their expected rates and SLOs, and place them
// (AlpaServe by default) on the registered devices. The dispatchers then serve ms.infer.<name>.
import { readFileSync } from 'node:fs';
import type { ActorSystem } from '../../bus/index.js';
import { connectNats } from '../../bus/index.js';
import type { ModelProfile } from '../../planner/types.js';
import { liveDevices, storeProfiles } from '../../serving/planner-actor/cluster-state.js';
import type { PlannerActor } from '../../serving/planner-actor/planner-actor.js';
import { RuntimeKeys } from '../../serving/protocol/keys.js';
import type { RuntimePlacement } from '../../serving/protocol/placement.js';
import { saveProfilesFile } from '../planner-files.js';
import { type ImportFileResult, importFile } from './import-file.js';
import { readRepository } from './repository.js';

export interface ServeRepositoryOptions {
  natsUrl: string;
  runs?: number;
  warmup?: number;
  /** Placement strategy (default: the planner's, AlpaServe). */
  strategy?: string;
  force?: boolean;
  /** Planner actor name (default `planner`). */
  planner?: string;
  onProgress?: (line: string) => void;
}

export interface ServedModel {
  name: string;
  result: ImportFileResult;
}

export interface ServeRepositoryResult {
  models: ServedModel[];
  /** The placement in force once placed. */
  placement: RuntimePlacement;
}

export async function serveRepository(
  system: ActorSystem,
  repository: string,
  o: ServeRepositoryOptions,
): Promise<ServeRepositoryResult> {
  const progress = o.onProgress ?? (() => {});
  if (!system.redis) throw new Error('serving a repository needs Redis (the profiles go there)');
  const models = readRepository(repository);
  // Simulated devices would echo a request's input: imported models need ONNX workers.
  const devices = await liveDevices(system, new RuntimeKeys(system.subjects.prefix));
  const simulated = devices.filter((d) => d.executor !== 'onnx').map((d) => `${d.id} (${d.executor})`);
  if (devices.length === simulated.length)
    throw new Error(
      `no ONNX workers are registered${simulated.length ? ` (only ${simulated.join(', ')})` : ''}: start them with meshserve worker --executor onnx`,
    );
  if (simulated.length)
    progress(`warning: the planner may also place on devices that do not run ONNX: ${simulated.join(', ')}`);
  progress(`${repository}: ${models.length} model(s): ${models.map((m) => m.name).join(', ')}`);
  const served: ServedModel[] = [];
  const connect = () => connectNats({ url: o.natsUrl, name: 'meshserve-serve' });
  for (const m of models) {
    const result = await importFile(readFileSync(m.modelFile), {
      name: m.name,
      source: m.modelFile,
      inputShapes: m.config.inputShape,
      maxPp: m.config.maxPp ?? 8,
      runs: o.runs ?? 20,
      warmup: o.warmup ?? 3,
      threads: 1,
      nc: system.nats,
      connect,
      prefix: system.subjects.prefix,
      previous: m.previous,
      force: o.force,
      onProgress: progress,
    }).catch((err: Error) => Promise.reject(new Error(`${m.name}: ${err.message}`)));
    if (!result.unchanged) saveProfilesFile(m.profileFile, [result.profile]);
    served.push({ name: m.name, result });
  }
  const profiles: ModelProfile[] = served.map((s) => s.result.profile);
  await storeProfiles(system.redis, profiles, system.subjects.prefix);
  const planner = system.actor<PlannerActor>(o.planner ?? 'planner', { timeoutMs: 120_000 });
  const expected = Object.fromEntries(
    models.map((m) => [m.name, { slo: m.config.slo, ...(m.config.rate !== undefined ? { rate: m.config.rate } : {}) }]),
  );
  await planner.call('configure', {
    models: profiles.map((p) => p.name),
    expected,
    ...(o.strategy ? { strategy: o.strategy } : {}),
  });
  progress('placing…');
  await planner.call('replace', `serve ${repository}`);
  const placement = await planner.call('current');
  if (!placement) throw new Error('the planner reports no placement in force');
  return { models: served, placement };
}
