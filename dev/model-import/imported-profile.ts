// The profile of an imported model, measured as `meshserve profile` measures a generated one: a
// stage's latency is its compute on this machine (median of `runs`, one intra-op thread, at the
// import shape; with op > 1 the slowest shard of each segment, the partial sums in JS and one NATS
// all-gather per split layer) plus the hop — the NATS trip of what it hands on, in the runtime's
// own message, encoded, published, received, decoded and checked on another connection.
import type { NatsConnection } from '@nats-io/transport-node';
import type { TensorSpec } from '../../modelgen/tensor-spec.js';
import type { ImportedModel } from '../../modelimport/import-model.js';
import type { SessionSettings } from '../../modelimport/ort-session.js';
import { ShardedChain } from '../../modelimport/sharded-chain.js';
import { StageChain } from '../../modelimport/stage-chain.js';
import { median } from '../../planner/stats.js';
import { type ConfigProfile, configKey, type ModelProfile, type StoredStage } from '../../planner/types.js';
import { wireTensor } from '../../serving/protocol/tensor.js';
import { parseTensorSet, tensorSetValue } from '../../serving/protocol/tensor-set.js';
import { measureAllGather, measureStageHop } from '../profile/nats-transfer.js';

export interface ImportedStageCost {
  config: string;
  stage: number;
  nodes: number;
  /** The tensors it hands on. */
  sends: string[];
  /** Weight bytes of the stage's largest shard. */
  weightBytes: number;
  computeMs: number;
  /** op > 1: summing the partial products, and the all-gathers of them over NATS. */
  sumMs: number;
  exchanges: number;
  exchangeMs: number;
  hopMs: number;
  totalMs: number;
}

/** One stage's row: its parts and their sum. */
function stageCost(
  config: string,
  stage: number,
  s: { from: number; to: number; sends: readonly TensorSpec[]; weightBytes: number },
  t: { computeMs: number; sumMs?: number; exchanges?: number; exchangeMs?: number; hopMs: number },
): ImportedStageCost {
  const [sumMs, exchanges, exchangeMs] = [t.sumMs ?? 0, t.exchanges ?? 0, t.exchangeMs ?? 0];
  return {
    config,
    stage,
    nodes: s.to - s.from,
    sends: s.sends.map((x) => x.name),
    weightBytes: s.weightBytes,
    computeMs: t.computeMs,
    sumMs,
    exchanges,
    exchangeMs,
    hopMs: t.hopMs,
    totalMs: t.computeMs + sumMs + exchangeMs + t.hopMs,
  };
}

export interface ImportedProfileOptions extends SessionSettings {
  name: string;
  source: string;
  runs: number;
  warmup: number;
  /** The largest pp and op the import was asked for (recorded, to tell a changed request from an unchanged one). */
  maxPp: number;
  maxOp: number;
  connect: () => Promise<NatsConnection>;
  onProgress?: (line: string) => void;
}

/** A zero tensor of a spec (what travels does not depend on the values). */
function zero(s: TensorSpec) {
  const shape = s.shape.map((d) => (typeof d === 'number' ? d : 1));
  return wireTensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
}

/** Zero tensors of the specs, as one stage message value. */
function zeros(specs: readonly TensorSpec[]): unknown {
  return tensorSetValue(Object.fromEntries(specs.map((s) => [s.name, zero(s)])), specs);
}

export async function profileImported(
  m: ImportedModel,
  o: ImportedProfileOptions,
): Promise<{ profile: ModelProfile; costs: ImportedStageCost[] }> {
  const progress = o.onProgress ?? (() => {});
  const transfer = { connect: o.connect, runs: Math.max(o.runs, 100), warmup: Math.max(o.warmup, 20) };
  const hops = new Map<string, number>();
  const hop = async (specs: readonly TensorSpec[]): Promise<number> => {
    const key = specs.map((s) => `${s.name}[${s.shape}]`).join(' ');
    let ms = hops.get(key);
    if (ms === undefined) {
      ms = await measureStageHop(zeros(specs), (input) => parseTensorSet(input, specs), transfer);
      hops.set(key, ms);
      progress(`NATS hop ${key}: ${ms.toFixed(3)} ms`);
    }
    return ms;
  };
  const gathers = new Map<string, number>();
  const gather = async (op: number, spec: TensorSpec): Promise<number> => {
    const key = `×${op} ${spec.name}[${spec.shape}]`;
    let ms = gathers.get(key);
    if (ms === undefined) {
      ms = await measureAllGather(op, zero(spec), spec, transfer);
      gathers.set(key, ms);
      progress(`NATS all-gather ${key}: ${ms.toFixed(3)} ms`);
    }
    return ms;
  };
  const costs: ImportedStageCost[] = [];
  const configs: Record<string, ConfigProfile> = {};
  const stages: Record<string, StoredStage[]> = {};
  for (const plan of m.plans) {
    const key = configKey({ pp: plan.pp, op: 1 });
    const chain = await StageChain.load(plan.stages, o);
    const samples: number[][] = plan.stages.map(() => []);
    try {
      for (let i = 0; i < o.warmup + o.runs; i++) {
        const { stageMs } = await chain.run(m.sampleInputs);
        if (i < o.warmup) continue;
        for (const [k, ms] of stageMs.entries()) samples[k].push(ms);
      }
    } finally {
      await chain.close();
    }
    const rows: ImportedStageCost[] = [];
    for (const [k, stage] of plan.stages.entries()) {
      const computeMs = median(samples[k]);
      const hopMs = await hop(stage.sends);
      rows.push(stageCost(key, k, stage, { computeMs, hopMs }));
    }
    progress(`${key}: stages ${rows.map((r) => r.totalMs.toFixed(2)).join(' / ')} ms (compute + hop)`);
    costs.push(...rows);
    configs[key] = {
      pp: plan.pp,
      op: 1,
      stageLatency: rows.map((r) => r.totalMs / 1000),
      stageWeightBytes: rows.map((r) => r.weightBytes),
    };
    stages[key] = plan.stages.map((s) => ({
      object: s.sha256,
      bytes: s.bytes.length,
      receives: s.receives,
      sends: s.sends,
    }));
  }
  for (const plan of m.shardedPlans) {
    const key = configKey(plan);
    const chain = await ShardedChain.load(plan.stages, o);
    const compute: number[][] = plan.stages.map(() => []);
    const sums: number[][] = plan.stages.map(() => []);
    try {
      for (let i = 0; i < o.warmup + o.runs; i++) {
        const { stages: timed } = await chain.run(m.sampleInputs);
        if (i < o.warmup) continue;
        timed.forEach((t, k) => {
          compute[k].push(t.computeMs);
          sums[k].push(t.sumMs);
        });
      }
    } finally {
      await chain.close();
    }
    const rows: ImportedStageCost[] = [];
    for (const [k, stage] of plan.stages.entries()) {
      const reduced = stage.segments.flatMap((g) => (g.reduce ? [g.reduce] : []));
      let exchangeMs = 0;
      for (const spec of reduced) exchangeMs += await gather(plan.op, spec);
      const hopMs = await hop(stage.sends);
      const computeMs = median(compute[k]);
      const sumMs = median(sums[k]);
      rows.push(stageCost(key, k, stage, { computeMs, sumMs, exchanges: reduced.length, exchangeMs, hopMs }));
    }
    progress(
      `${key}: stages ${rows.map((r) => r.totalMs.toFixed(2)).join(' / ')} ms (compute + sums + all-gathers + hop)`,
    );
    costs.push(...rows);
    configs[key] = {
      pp: plan.pp,
      op: plan.op,
      stageLatency: rows.map((r) => r.totalMs / 1000),
      stageWeightBytes: rows.map((r) => r.weightBytes),
    };
    stages[key] = plan.stages.map((s) => ({
      receives: s.receives,
      sends: s.sends,
      segments: s.segments.map((g) => ({
        receives: g.receives,
        sends: g.sends,
        ...(g.reduce ? { reduce: g.reduce } : {}),
        objects: g.files.map((f) => f.sha256),
      })),
    }));
  }
  const single = configs[configKey({ pp: 1, op: 1 })];
  const maxDiff = Math.max(...[...m.plans, ...m.shardedPlans].map((p) => p.maxRelativeDifference));
  const shapes = Object.entries(m.inputShapes)
    .map(([n, s]) => `${n}=${s.join(',')}`)
    .join(' ');
  return {
    costs,
    profile: {
      name: o.name,
      singleDeviceLatency: single.stageLatency[0],
      weightBytes: single.stageWeightBytes[0],
      configs,
      source: 'measured',
      notes:
        `meshserve import of ${o.source}: onnxruntime-node provider ${o.provider ?? 'cpu'}, ${o.threads ?? 1} intra-op thread(s), ` +
        `at ${shapes}, median of ${o.runs} runs; stage latency = compute (op > 1: Σ segments of the slowest shard) ` +
        '+ JS partial sums + one NATS all-gather per split layer + the NATS hop of what the stage hands on. ' +
        `Stage chains agree with the whole model within ${maxDiff.toExponential(2)} (relative). ${m.sharding.reason}.`,
      imported: { sha256: m.sha256, inputShapes: m.inputShapes, maxPp: o.maxPp, maxOp: o.maxOp, stages },
    },
  };
}
