// `meshserve profile <model>`: measures a generated model under every parallel config that fits,
// NATS hops included, and writes the profile to Redis and to a JSON file.
import { type Command, InvalidArgumentError } from 'commander';
import { setUpProcess } from '../../config/environment.js';
import { TOOL_LOG_LEVEL } from '../../config/tools.js';
import { WORKER_DEFAULTS } from '../../config/worker.js';
import { formatProfileTable, profileAndStore } from '../../dev/profile/profile-and-store.js';
import { DEFAULT_SEED, SIZE_NAMES, type TransformerSpec, transformerSpec } from '../../modelgen/transformer.js';
import type { ParallelConfig } from '../../planner/types.js';
import { fail } from './errors.js';
import { commaList, positiveInt, positiveNumber } from './option-parsers.js';

function configList(value: string): ParallelConfig[] {
  return commaList(value).map((key) => {
    const m = /^pp(\d+)-op(\d+)$/.exec(key);
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1)
      throw new InvalidArgumentError(`"${key}" is not a config like pp2-op1`);
    return { pp: Number(m[1]), op: Number(m[2]) };
  });
}

function seedOption(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('must be a 32-bit unsigned integer');
  return Number(value);
}

/** `tiny` or `transformer-tiny` → the generated model's spec (usage error otherwise). */
function modelSpec(model: string, seed: number): TransformerSpec {
  return transformerSpec(model.replace(/^transformer-/, ''), seed);
}

interface ProfileCliOptions {
  seed: number;
  name?: string;
  devices: number;
  memoryGib: number;
  configs?: ParallelConfig[];
  runs: number;
  warmup: number;
  threads: number;
  out?: string;
  redis: boolean;
}

export function registerProfile(program: Command): void {
  program
    .command('profile')
    .description(
      "measure a generated model's stage latency for every parallel config that fits (NATS hops included); write ms:profile:<model> and a JSON profile",
    )
    .argument(
      '<model>',
      `a generated model: ${SIZE_NAMES.map((s) => `transformer-${s}`).join(', ')} (or just the size)`,
    )
    .option('--seed <n>', 'weight seed of the generated model', seedOption, DEFAULT_SEED)
    .option('--name <model>', 'model name to store the profile under (default: transformer-<size>)')
    .option(
      '--devices <n>',
      'devices a mesh group may span: every power-of-two pp × op ≤ n is profiled',
      positiveInt,
      4,
    )
    .option(
      '--memory-gib <n>',
      'weight budget per device; configs whose largest shard does not fit are skipped',
      positiveNumber,
      WORKER_DEFAULTS.memoryGiB,
    )
    .option(
      '--configs <list>',
      'profile only these configs, e.g. pp1-op1,pp2-op1 (pp1-op1 is always included)',
      configList,
    )
    .option('--runs <n>', 'measured runs per config (median)', positiveInt, 20)
    .option('--warmup <n>', 'warm-up runs per config', positiveInt, 3)
    .option('--threads <n>', 'onnxruntime intra-op threads per session (1 = one shard per core)', positiveInt, 1)
    .option('--out <file>', 'JSON profile file (default: profile-<model>.json)')
    .option('--no-redis', 'do not write ms:profile:<model> (REDIS_URL is then not needed)')
    .addHelpText(
      'after',
      '\nNATS_URL and REDIS_URL come from the environment. Progress goes to stderr; the measured table to stdout.\nExit codes: 0 ok, 1 failure (no server, measuring or writing failed), 2 usage.',
    )
    .action(async (model: string, o: ProfileCliOptions) => {
      let spec: TransformerSpec;
      try {
        spec = modelSpec(model, o.seed);
      } catch (err) {
        fail('profile', err, 2);
        return;
      }
      const name = o.name ?? spec.name;
      const out = o.out ?? `profile-${name}.json`;
      try {
        const { env, log } = setUpProcess(TOOL_LOG_LEVEL);
        const result = await profileAndStore(spec, {
          natsUrl: env.bus.natsUrl,
          redisUrl: env.bus.redisUrl,
          log,
          name,
          out,
          devices: o.devices,
          memoryBytes: o.memoryGib * 2 ** 30,
          configs: o.configs,
          runs: o.runs,
          warmup: o.warmup,
          executor: { ...env.ort, intraOpThreads: o.threads },
          redis: o.redis,
          onProgress: (line) => process.stderr.write(`${line}\n`),
        });
        console.log(formatProfileTable(result));
        console.log(
          `\nwrote ${out}${result.redisKey ? ` and ${result.redisKey}` : ''} (source "measured", single-device latency ${(result.profile.singleDeviceLatency * 1000).toFixed(2)} ms)`,
        );
      } catch (err) {
        fail('profile', err);
        process.exit(1); // a failed connection attempt may keep retrying in the background
      }
    });
}
