// A sharded plan run in one process: stage after stage, segment after segment; a split layer's
// shards run one after another and their partial products are summed here, in shard order, as
// every shard of the runtime sums them. The importer verifies and times sharded plans with it.
import { createSession, ort, type SessionSettings, type Tensors } from './ort-session.js';
import type { ShardedStage } from './shard-writer.js';

export interface ShardedRun {
  outputs: Tensors;
  /** Per stage: Σ over segments of the slowest shard, and the time spent summing partials (ms). */
  stages: Array<{ computeMs: number; sumMs: number }>;
}

export function sumTensors(parts: readonly ort.Tensor[]): ort.Tensor {
  const total = Float32Array.from(parts[0].data as Float32Array);
  for (const p of parts.slice(1)) {
    const values = p.data as Float32Array;
    for (let i = 0; i < total.length; i++) total[i] += values[i];
  }
  return new ort.Tensor('float32', total, [...parts[0].dims]);
}

export class ShardedChain {
  private constructor(
    private readonly stages: readonly ShardedStage[],
    /** sessions[stage][segment][file] */
    private readonly sessions: ort.InferenceSession[][][],
  ) {}

  static async load(stages: readonly ShardedStage[], settings: SessionSettings = {}): Promise<ShardedChain> {
    const sessions: ort.InferenceSession[][][] = [];
    const chain = new ShardedChain(stages, sessions);
    try {
      for (const stage of stages) {
        const row: ort.InferenceSession[][] = [];
        sessions.push(row);
        for (const segment of stage.segments) {
          const files: ort.InferenceSession[] = [];
          row.push(files);
          for (const f of segment.files) files.push(await createSession(f.bytes, settings));
        }
      }
    } catch (err) {
      await chain.close();
      throw err;
    }
    return chain;
  }

  async run(inputs: Tensors): Promise<ShardedRun> {
    let tensors = inputs;
    const timings: ShardedRun['stages'] = [];
    for (const [k, stage] of this.stages.entries()) {
      let computeMs = 0;
      let sumMs = 0;
      for (const [s, segment] of stage.segments.entries()) {
        const results: Tensors[] = [];
        let slowest = 0;
        for (const session of this.sessions[k][s]) {
          const feeds = Object.fromEntries(session.inputNames.map((n) => [n, tensors[n]]));
          const start = performance.now();
          results.push((await session.run(feeds)) as Tensors);
          slowest = Math.max(slowest, performance.now() - start);
        }
        computeMs += slowest;
        const produced = { ...results[0] };
        if (segment.reduce) {
          const start = performance.now();
          produced[segment.reduce.name] = sumTensors(results.map((r) => r[segment.reduce!.name]));
          sumMs += performance.now() - start;
        }
        tensors = Object.fromEntries(segment.sends.map(({ name }) => [name, produced[name] ?? tensors[name]]));
      }
      timings.push({ computeMs, sumMs });
    }
    return { outputs: tensors, stages: timings };
  }

  async close(): Promise<void> {
    for (const row of this.sessions) for (const files of row) await Promise.all(files.map((s) => s.release()));
  }
}
