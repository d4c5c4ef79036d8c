// `npm run bench -- onnx [--runs N] [--threads N] [--sizes tiny,small,base] [--profile-sizes small,base]`
// Generated model sizes, single-graph latency per size, and the per-stage latency of a
// 2-stage and a 2-shard split of one size, all through onnxruntime-node in this process.
import { OnnxExecutor } from '../../actors/onnx/executor.js';
import { LocalPlanRunner, type LocalRunResult } from '../../actors/onnx/local-runner.js';
import { planPartition } from '../../actors/onnx/partition.js';
import { uniformFloats } from '../../actors/onnx/seeded-random.js';
import { wireTensor, type WireTensor } from '../../actors/onnx/tensor.js';
import { buildFullModel, modelIO, SIZE_NAMES, transformerSpec, TransformerWeights, type TransformerSpec } from '../../actors/onnx/transformer.js';

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (x: number): string => x.toFixed(2);

function benchInput(spec: TransformerSpec): WireTensor {
  return wireTensor(uniformFloats(1, 'bench-input', spec.seq * spec.inputDim, 1), [1, spec.seq, spec.inputDim]);
}

async function timeRuns<T>(runs: number, fn: () => Promise<T>): Promise<{ times: number[]; results: T[] }> {
  for (let i = 0; i < Math.min(5, runs); i++) await fn(); // warm-up: first runs allocate and tune kernels
  const times: number[] = [];
  const results: T[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    results.push(await fn());
    times.push(performance.now() - start);
  }
  return { times, results };
}

export async function run(args: string[]): Promise<void> {
  const runs = Number(option(args, 'runs', '30'));
  const threads = Number(option(args, 'threads', '1'));
  const sizes = option(args, 'sizes', SIZE_NAMES.join(',')).split(',');
  const profileSizes = option(args, 'profile-sizes', 'small,base').split(',');
  const ortOptions = { intraOpThreads: threads };
  console.log(`onnxruntime-node CPU, ${threads} intra-op thread(s) per session, batch 1, median of ${runs} runs after 5 warm-up runs`);

  console.log('\n| model | params | ONNX bytes | session load ms | single-graph median ms |');
  console.log('|---|---:|---:|---:|---:|');
  for (const size of sizes) {
    const spec = transformerSpec(size);
    const { bytes, params } = buildFullModel(spec);
    const executor = new OnnxExecutor(ortOptions);
    const loadStart = performance.now();
    await executor.load({ graphs: [{ name: spec.name, ...modelIO(spec), bytes }] });
    const loadMs = performance.now() - loadStart;
    const input = benchInput(spec);
    const { times } = await timeRuns(runs, () => executor.run(input));
    await executor.unload();
    console.log(`| ${spec.name} | ${params.toLocaleString('en-US')} | ${bytes.byteLength.toLocaleString('en-US')} | ${ms(loadMs)} | ${ms(median(times))} |`);
  }

  for (const size of profileSizes) await profileSplits(transformerSpec(size), runs, ortOptions);
}

/** Per-stage latency of the single graph, a 2-stage, a 2-shard and a 2×2 split. */
async function profileSplits(spec: TransformerSpec, runs: number, ortOptions: { intraOpThreads: number }): Promise<void> {
  const weights = new TransformerWeights(spec);
  const input = benchInput(spec);
  const activationBytes = 4 * spec.seq * spec.hidden;
  console.log(`\nper-stage profile of ${spec.name} (activation between stages / per all-reduce: ${activationBytes.toLocaleString('en-US')} bytes at batch 1)`);
  console.log('\n| config | stage | units | segments (all-reduces) | stage median ms (shards in parallel) | reduce median ms | end-to-end median ms (here, shards in turn) |');
  console.log('|---|---:|---|---:|---:|---:|---:|');
  for (const [pp, op] of [[1, 1], [2, 1], [1, 2], [2, 2]] as const) {
    const plan = planPartition(spec, { pp, op });
    const runner = await LocalPlanRunner.loadOnnx(weights, plan, ortOptions);
    const { times, results } = await timeRuns(runs, () => runner.run(input));
    await runner.close();
    for (const stage of plan.stages) {
      const per = (pick: (r: LocalRunResult) => number): number => median(results.map(pick));
      const reduces = op > 1 ? stage.segments.length : 0;
      console.log(
        `| pp=${pp} op=${op} | ${stage.index} | ${stage.units.join(' ')} | ${reduces} | ${ms(per((r) => r.stages[stage.index].parallelMs))} | ${ms(per((r) => r.stages[stage.index].reduceMs))} | ${stage.index === 0 ? ms(median(times)) : ''} |`,
      );
    }
  }
}
