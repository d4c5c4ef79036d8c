// A model repository, as Triton and Ray Serve users know it: one folder per model,
//   <repository>/<name>/model.onnx
//   <repository>/<name>/meshserve.json   { "slo": s, "rate"?: req/s, "inputShape"?: { input: dims }, "maxPp"?: n }
// and, once imported, <repository>/<name>/profile.json: the measured profile (the profiles JSON
// format of dev/planner-files.ts, `source: "measured"`), which other tools read as they are.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { formatIssues } from '../../planner/profile.js';
import type { ModelProfile } from '../../planner/types.js';
import { loadProfilesFile } from '../planner-files.js';

export const MODEL_FILE = 'model.onnx';
export const CONFIG_FILE = 'meshserve.json';
export const PROFILE_FILE = 'profile.json';

export const ModelConfig = z
  .object({
    /** Latency objective of the model's requests, seconds: what placements are scored on. */
    slo: z.number().positive(),
    /** Expected requests per second until the dispatchers observe the real rate. */
    rate: z.number().nonnegative().optional(),
    /** Shapes of inputs with dynamic dimensions, by input name. */
    inputShape: z.record(z.string(), z.array(z.number().int().positive()).min(1)).optional(),
    /** Largest pipeline degree to offer: 1, 2, 4 or 8 (default 8). */
    maxPp: z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8)]).optional(),
  })
  .strict();
export type ModelConfig = z.infer<typeof ModelConfig>;

export interface RepositoryModel {
  name: string;
  dir: string;
  modelFile: string;
  profileFile: string;
  config: ModelConfig;
  /** The profile written by an earlier import, if it is there and readable. */
  previous?: ModelProfile;
}

/** Model names are subject tokens (they end up in ms.infer.<name>). */
const NAME = /^[A-Za-z0-9_-]+$/;

/** Every model folder of a repository; a folder with model.onnx but a bad meshserve.json is an error naming it. */
export function readRepository(repository: string): RepositoryModel[] {
  let entries: string[];
  try {
    entries = readdirSync(repository, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (err) {
    throw new Error(`cannot read the model repository ${repository}: ${(err as Error).message}`);
  }
  const models: RepositoryModel[] = [];
  for (const name of entries) {
    const dir = join(repository, name);
    const modelFile = join(dir, MODEL_FILE);
    if (!existsSync(modelFile)) continue;
    if (!NAME.test(name))
      throw new Error(`${dir}: a model folder's name is the model's name: letters, digits, "-" and "_" only`);
    const configFile = join(dir, CONFIG_FILE);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(configFile, 'utf8'));
    } catch (err) {
      throw new Error(`${configFile}: ${(err as Error).message} (every model folder needs one, e.g. { "slo": 0.5 })`);
    }
    const parsed = ModelConfig.safeParse(json);
    if (!parsed.success) throw new Error(`${configFile} is not valid:\n${formatIssues(parsed.error)}`);
    const profileFile = join(dir, PROFILE_FILE);
    let previous: ModelProfile | undefined;
    try {
      if (existsSync(profileFile)) previous = loadProfilesFile(profileFile).find((p) => p.name === name);
    } catch {
      previous = undefined; // unreadable: imported again
    }
    models.push({ name, dir, modelFile, profileFile, config: parsed.data, previous });
  }
  if (models.length === 0)
    throw new Error(`no model in ${repository}: expected <name>/${MODEL_FILE} with <name>/${CONFIG_FILE}`);
  return models;
}
