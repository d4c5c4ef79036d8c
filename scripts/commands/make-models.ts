import type { Command } from 'commander';
import { writeModels } from '../../modelgen/model-files.js';
import { DEFAULT_SEED, SIZE_NAMES, transformerSpec } from '../../modelgen/transformer.js';
import { fail } from './errors.js';

export function registerMakeModels(program: Command): void {
  program
    .command('make-models')
    .description('generate the seeded transformer ONNX models and a manifest.json describing them')
    .option('--out <dir>', 'output folder', 'models')
    .option('--sizes <list>', `comma-separated sizes (${SIZE_NAMES.join(', ')})`, SIZE_NAMES.join(','))
    .option('--seed <n>', 'weight seed (32-bit unsigned integer)', String(DEFAULT_SEED))
    .action(async (opts: { out: string; sizes: string; seed: string }) => {
      const sizes = opts.sizes
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const seed = Number(opts.seed);
      try {
        if (sizes.length === 0) throw new Error('--sizes lists no size');
        if (!/^\d+$/.test(opts.seed.trim()))
          throw new Error(`--seed must be a 32-bit unsigned integer, got "${opts.seed}"`);
        for (const size of sizes) transformerSpec(size, seed);
      } catch (err) {
        fail('make-models', err, 2);
        return;
      }
      try {
        const manifest = await writeModels({ outDir: opts.out, sizes, seed });
        for (const m of manifest.models) {
          console.log(
            `${m.file}: ${m.params.toLocaleString('en-US')} params, ${m.bytes.toLocaleString('en-US')} bytes, sha256 ${m.sha256.slice(0, 12)}`,
          );
        }
        console.log(`wrote ${manifest.models.length} model(s) and manifest.json to ${opts.out}`);
      } catch (err) {
        fail('make-models', err);
      }
    });
}
