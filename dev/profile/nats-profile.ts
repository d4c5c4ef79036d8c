// `meshserve profile`: a generated model measured under every parallel config that fits the
// devices, in the planner's ModelProfile format (`source: 'measured'`, with the `onnx`
// reference the ONNX workers build from). A stage's latency is what it costs on its own devices:
//   compute  Σ over segments of the slowest shard (onnxruntime here, shards timed in turn),
//   sum      adding the shards' partials in JS (op > 1),
//   exchange one all-gather of the partials per segment over NATS (op > 1),
//   hop      sending the stage's output over NATS: the activation to the next stage, or the
//            model output to the dispatcher from the last stage.
import type { NatsConnection } from '@nats-io/transport-node';
import { type OrtSettings, WORKER_DEFAULTS } from '../../config/worker.js';
import { maxIntraOpDegree, maxPipelineDegree, planPartition } from '../../modelgen/partition.js';
import type { TensorSpec } from '../../modelgen/tensor-spec.js';
import type { TransformerSpec } from '../../modelgen/transformer.js';
import { type ConfigProfile, configKey, type ModelProfile, type ParallelConfig } from '../../planner/types.js';
import { wireTensor } from '../../serving/protocol/tensor.js';
import { profileLocally } from './local-profile.js';
import { measureAllGather, measureHop, type TransferOptions } from './nats-transfer.js';

/** The planner's group layouts use power-of-two group sizes with pp ≤ 8 and op ≤ 4. */
const MAX_PP = 8;
const MAX_OP = 4;

export interface NatsProfileOptions {
  /** Devices a group may span (pp × op ≤ devices) and the weight budget of one (bytes). */
  devices: number;
  memoryBytes: number;
  /** Explicit configs instead of every one that fits. */
  configs?: ParallelConfig[];
  /** Model name to profile under; default the generated model's (`transformer-<size>`). */
  name?: string;
  runs?: number;
  warmup?: number;
  executor?: Partial<OrtSettings>;
  connect: () => Promise<NatsConnection>;
  onProgress?: (line: string) => void;
}

export interface StageCost {
  units: string[];
  computeMs: number;
  sumMs: number;
  /** All-gathers per request and their total time. */
  exchanges: number;
  exchangeMs: number;
  hopMs: number;
  totalMs: number;
}

export interface MeasuredProfile {
  profile: ModelProfile;
  configs: Array<{ config: ParallelConfig; stages: StageCost[] }>;
}

const powersOfTwo = (max: number): number[] => Array.from({ length: Math.floor(Math.log2(max)) + 1 }, (_, i) => 2 ** i);

/** Every power-of-two (pp, op) the model can be split into that fits `devices` devices of `memoryBytes`. */
export function fittingConfigs(spec: TransformerSpec, devices: number, memoryBytes: number): ParallelConfig[] {
  const out: ParallelConfig[] = [];
  for (const pp of powersOfTwo(Math.min(MAX_PP, maxPipelineDegree(spec)))) {
    for (const op of powersOfTwo(Math.min(MAX_OP, maxIntraOpDegree(spec)))) {
      if (pp * op > devices) continue;
      if (planPartition(spec, { pp, op }).stages.every((s) => s.maxShardWeightBytes <= memoryBytes))
        out.push({ pp, op });
    }
  }
  return out;
}

/** A zero tensor of the spec's shape at batch 1 (what travels does not depend on the values). */
function batchOne(spec: TensorSpec) {
  const shape = spec.shape.map((d) => (typeof d === 'number' ? d : 1));
  return wireTensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
}

export async function profileOverNats(spec: TransformerSpec, o: NatsProfileOptions): Promise<MeasuredProfile> {
  const isSingle = (c: ParallelConfig) => c.pp === 1 && c.op === 1;
  const chosen = o.configs ?? fittingConfigs(spec, o.devices, o.memoryBytes);
  if (!o.configs && !chosen.some(isSingle)) {
    throw new Error(
      `${spec.name} does not fit one device of ${(o.memoryBytes / 2 ** 30).toFixed(2)} GiB, so it has no single-device latency to profile against`,
    );
  }
  // The single-device config is the SLO reference: always measured.
  const configs = chosen.some(isSingle) ? chosen : [{ pp: 1, op: 1 }, ...chosen];
  const runs = o.runs ?? 20;
  const warmup = o.warmup ?? 3;
  const progress = o.onProgress ?? (() => {});
  const total = configs.length;
  let measured = 0;
  progress(`${spec.name}: ${total} config(s) fit ${o.devices} device(s): ${configs.map(configKey).join(', ')}`);
  const local = await profileLocally(spec, configs, {
    runs,
    warmup,
    executor: o.executor,
    onMeasured: (m) =>
      progress(
        `[${++measured}/${total}] ${configKey(m.config)} compute: stages ${m.stages.map((s) => (s.parallelMs + s.reduceMs).toFixed(2)).join(' / ')} ms`,
      ),
  });

  // Transfers depend only on the tensor (and the number of shards): measure each kind once.
  // Sub-millisecond and cheap: more runs than the compute, and a longer warm-up (JIT, buffers).
  const transfer: TransferOptions = { connect: o.connect, runs: Math.max(runs, 100), warmup: Math.max(warmup, 20) };
  const cache = new Map<string, number>();
  const cost = async (key: string, measure: () => Promise<number>): Promise<number> => {
    let ms = cache.get(key);
    if (ms === undefined) {
      ms = await measure();
      cache.set(key, ms);
      progress(`NATS ${key}: ${ms.toFixed(3)} ms`);
    }
    return ms;
  };
  const hop = (t: TensorSpec) => cost(`hop [${batchOne(t).shape}]`, () => measureHop(batchOne(t), t, transfer));
  const gather = (op: number, t: TensorSpec) =>
    cost(`all-gather ×${op} [${batchOne(t).shape}]`, () => measureAllGather(op, batchOne(t), t, transfer));

  const out: MeasuredProfile['configs'] = [];
  const tables: Record<string, ConfigProfile> = {};
  for (const m of local.measurements) {
    const plan = planPartition(spec, m.config);
    const stages: StageCost[] = [];
    for (const [k, stage] of plan.stages.entries()) {
      const reducing = stage.segments.filter((s) => s.reduce === 'sum');
      let exchangeMs = 0;
      for (const seg of reducing) exchangeMs += await gather(plan.op, seg.shards[0].output);
      const hopMs = await hop(stage.output);
      const { parallelMs: computeMs, reduceMs: sumMs } = m.stages[k];
      stages.push({
        units: stage.units,
        computeMs,
        sumMs,
        exchanges: reducing.length,
        exchangeMs,
        hopMs,
        totalMs: computeMs + sumMs + exchangeMs + hopMs,
      });
    }
    out.push({ config: m.config, stages });
    tables[configKey(m.config)] = {
      pp: m.config.pp,
      op: m.config.op,
      stageLatency: stages.map((s) => s.totalMs / 1000),
      stageWeightBytes: plan.stages.map((s) => s.maxShardWeightBytes),
    };
  }
  const single = tables[configKey({ pp: 1, op: 1 })];
  return {
    configs: out,
    profile: {
      name: o.name ?? spec.name,
      singleDeviceLatency: single.stageLatency[0],
      weightBytes: local.profile.weightBytes,
      configs: tables,
      source: 'measured',
      onnx: { size: spec.size, seed: spec.seed },
      notes:
        `meshserve profile: onnxruntime-node provider ${o.executor?.provider ?? WORKER_DEFAULTS.ort.provider}, ${o.executor?.intraOpThreads ?? 'default'} ` +
        `intra-op thread(s), batch 1, median of ${runs} runs; stage latency = Σ segments of the slowest shard + JS partial sum ` +
        '+ one NATS all-gather of the partials per segment (op > 1) + the NATS hop of the stage output.',
    },
  };
}
