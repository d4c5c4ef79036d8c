// `npm run bench -- onnx [--runs N] [--threads N] [--sizes tiny,small,base] [--profile-sizes
// small,base] [--profile-out file.json]` Generated model sizes, single-graph latency per size, and the
// per-stage latency of a 2-stage, a 2-shard and a 2×2 split, all through onnxruntime-node in this
// process.
import { writeFile } from 'node:fs/promises';
import { median, profileLocally } from '../dev/profile/local-profile.js';
import { uniformFloats } from '../modelgen/seeded-random.js';
import { modelIO, SIZE_NAMES, transformerSpec } from '../modelgen/transformer.js';
import { buildFullModel } from '../modelgen/transformer-graphs.js';
import type { ModelProfile } from '../planner/types.js';
import { OnnxGraphRunner } from '../serving/executors/onnx-graphs.js';
import { wireTensor } from '../serving/protocol/tensor.js';

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
}

const ms = (x: number): string => x.toFixed(2);
const WARMUP = 5;

export async function run(args: string[]): Promise<void> {
  const runs = Number(option(args, 'runs', '30'));
  const threads = Number(option(args, 'threads', '1'));
  const sizes = option(args, 'sizes', SIZE_NAMES.join(',')).split(',');
  const profileSizes = option(args, 'profile-sizes', 'small,base').split(',');
  const executorOptions = { intraOpThreads: threads };
  console.log(
    `onnxruntime-node CPU, ${threads} intra-op thread(s) per session, batch 1, median of ${runs} runs after ${WARMUP} warm-up runs`,
  );

  console.log('\n| model | params | ONNX bytes | session load ms | single-graph median ms |');
  console.log('|---|---:|---:|---:|---:|');
  for (const size of sizes) {
    const spec = transformerSpec(size);
    const { bytes, params } = buildFullModel(spec);
    const executor = new OnnxGraphRunner(executorOptions);
    const loadStart = performance.now();
    await executor.load({ graphs: [{ name: spec.name, ...modelIO(spec), bytes }] });
    const loadMs = performance.now() - loadStart;
    const input = wireTensor(uniformFloats(1, 'bench-input', spec.seq * spec.inputDim, 1), [
      1,
      spec.seq,
      spec.inputDim,
    ]);
    for (let i = 0; i < WARMUP; i++) await executor.run(input);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await executor.run(input);
      times.push(performance.now() - start);
    }
    await executor.unload();
    console.log(
      `| ${spec.name} | ${params.toLocaleString('en-US')} | ${bytes.byteLength.toLocaleString('en-US')} | ${ms(loadMs)} | ${ms(median(times))} |`,
    );
  }

  const profiles: ModelProfile[] = [];
  for (const size of profileSizes) {
    const spec = transformerSpec(size);
    const configs = [
      { pp: 2, op: 1 },
      { pp: 1, op: 2 },
      { pp: 2, op: 2 },
    ];
    const { profile, measurements } = await profileLocally(spec, configs, {
      runs,
      warmup: WARMUP,
      executor: executorOptions,
    });
    profiles.push(profile);
    console.log(
      `\nper-stage profile of ${spec.name} (activation between stages and per all-reduce: ${(4 * spec.seq * spec.hidden).toLocaleString('en-US')} bytes at batch 1)`,
    );
    console.log(
      '\n| config | stage | units | all-reduces | stage median ms (shards in parallel) | reduce median ms | end-to-end median ms (here, shards in turn) |',
    );
    console.log('|---|---:|---|---:|---:|---:|---:|');
    for (const m of measurements) {
      m.stages.forEach((stage, k) => {
        const e2e = k === 0 ? ms(m.endToEndMs) : '';
        console.log(
          `| pp=${m.config.pp} op=${m.config.op} | ${k} | ${m.units[k].join(' ')} | ${m.reducesPerStage[k]} | ${ms(stage.parallelMs)} | ${ms(stage.reduceMs)} | ${e2e} |`,
        );
      });
    }
  }
  const out = option(args, 'profile-out', '');
  if (out) {
    await writeFile(out, `${JSON.stringify(profiles, null, 2)}\n`);
    console.log(`\nwrote ${profiles.length} ModelProfile(s) (planner format, source "measured") to ${out}`);
  }
}
