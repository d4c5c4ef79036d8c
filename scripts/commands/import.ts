// `meshserve import <file.onnx>`: any ONNX model split into verified pipeline stages, written to the
// model store, measured through NATS, and its profile written to Redis and to a JSON file.
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { Redis } from 'ioredis';
import { connectNats, connectRedis } from '../../bus/index.js';
import { setUpProcess } from '../../config/environment.js';
import { TOOL_LOG_LEVEL } from '../../config/tools.js';
import { formatImportTable, importFile } from '../../dev/model-import/import-file.js';
import { loadProfilesFile, saveProfilesFile } from '../../dev/planner-files.js';
import { ImportError } from '../../modelimport/import-error.js';
import type { ModelProfile } from '../../planner/types.js';
import { readStoredProfile, storeProfiles } from '../../serving/planner-actor/cluster-state.js';
import { RuntimeKeys } from '../../serving/protocol/keys.js';
import { namedShape, positiveInt } from './option-parsers.js';

interface ImportCliOptions {
  name?: string;
  inputShape?: Record<string, number[]>;
  maxPp: number;
  maxOp: number;
  runs: number;
  warmup: number;
  out?: string;
  redis: boolean;
  force?: boolean;
}

/** `--input-shape x=1,3,48,320`, repeatable: shapes by input name. */
export function inputShapeOption(value: string, previous: Record<string, number[]> = {}): Record<string, number[]> {
  const expected = '<input>=<dims>, e.g. x=1,3,48,320';
  const { name, shape } = namedShape(value, expected);
  if (name === undefined) throw new InvalidArgumentError(`"${value}" is not ${expected}`);
  return { ...previous, [name]: shape };
}

/** A model name from a file name: the part before `.onnx`, in the characters subjects allow. */
export function modelNameOf(file: string): string {
  return (
    basename(file)
      .replace(/\.onnx$/i, '')
      .replace(/[^A-Za-z0-9_-]+/g, '-') || 'model'
  );
}

const oneOf =
  (allowed: number[]) =>
  (value: string): number => {
    const n = Number(value);
    if (!allowed.includes(n))
      throw new InvalidArgumentError(`must be ${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}`);
    return n;
  };

export function registerImport(program: Command): void {
  program
    .command('import')
    .description(
      'split an ONNX model into verified pipeline stages, store them in the model store (NATS JetStream), measure every config through NATS, write ms:profile:<model> and a JSON profile',
    )
    .argument('<file.onnx>', 'the model file')
    .option('--name <model>', 'model name (default: the file name without .onnx)')
    .option(
      '--input-shape <input=dims>',
      'shape to import (and serve) an input with dynamic dimensions at, e.g. x=1,3,48,320; repeat for each such input',
      inputShapeOption,
    )
    .option('--max-pp <n>', 'largest pipeline degree to offer (1, 2, 4 or 8)', oneOf([1, 2, 4, 8]), 8)
    .option(
      '--max-op <n>',
      'largest number of shards per stage to offer where a MatMul/Gemm layer can be split (1 = pipelines only, 2 or 4)',
      oneOf([1, 2, 4]),
      4,
    )
    .option('--runs <n>', 'measured runs per config (median)', positiveInt, 20)
    .option('--warmup <n>', 'warm-up runs per config', positiveInt, 3)
    .option('--out <file>', 'JSON profile file (default: profile-<model>.json)')
    .option('--no-redis', 'do not write ms:profile:<model> (REDIS_URL is then not needed)')
    .option('--force', 'import again even when the file and options are unchanged')
    .addHelpText(
      'after',
      '\nNATS_URL (with JetStream) and REDIS_URL come from the environment. Progress goes to stderr; the measured table to stdout.\nExit codes: 0 ok, 1 failure (a bad or refused model, no server), 2 usage.',
    )
    .action(async (file: string, o: ImportCliOptions) => {
      const fail = (reason: string, code = 1): void => {
        console.error(`meshserve import: ${reason}`);
        process.exit(code); // a failed connection attempt may keep retrying in the background
      };
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(file);
      } catch (err) {
        return fail(`cannot read ${file}: ${(err as Error).message}`);
      }
      const name = o.name ?? modelNameOf(file);
      const out = o.out ?? `profile-${name}.json`;
      let redis: Redis | undefined;
      try {
        const { env, log } = setUpProcess(TOOL_LOG_LEVEL);
        const connect = () => connectNats({ url: env.bus.natsUrl, name: 'meshserve-import' });
        const nc = await connect();
        if (o.redis)
          redis = await connectRedis({ url: env.bus.redisUrl, name: 'meshserve-import', log }).catch((err: Error) =>
            Promise.reject(new Error(`${err.message}; use --no-redis to write the JSON file only`)),
          );
        const keys = new RuntimeKeys();
        let previous: ModelProfile | undefined = redis && (await readStoredProfile(redis, keys, name));
        if (!previous && existsSync(out)) previous = loadProfilesFile(out).find((p) => p.name === name);
        const result = await importFile(bytes, {
          name,
          source: basename(file),
          inputShapes: o.inputShape,
          maxPp: o.maxPp,
          maxOp: o.maxOp,
          runs: o.runs,
          warmup: o.warmup,
          threads: 1,
          provider: env.ort.provider,
          nc,
          connect,
          previous,
          force: o.force,
          onProgress: (line) => process.stderr.write(`${line}\n`),
        });
        console.log(formatImportTable(result));
        if (result.imported) console.log(`\n${result.imported.sharding.reason}`);
        saveProfilesFile(out, [result.profile]);
        if (redis) await storeProfiles(redis, [result.profile]);
        const configs = Object.keys(result.profile.configs).join(', ');
        console.log(
          `\n${name}: ${result.unchanged ? 'unchanged, nothing uploaded' : `${result.uploaded} stage file(s) uploaded, ${result.present} already stored`}; configs ${configs}; wrote ${out}${redis ? ` and ${keys.profile(name)}` : ''}`,
        );
        await nc.close();
        redis?.disconnect();
      } catch (err) {
        redis?.disconnect();
        fail(err instanceof ImportError ? err.message : `${(err as Error).message}`);
      }
    });
}
