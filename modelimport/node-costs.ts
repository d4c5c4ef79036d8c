// What each activation node costs on this machine: onnxruntime's own profiler times every kernel
// while the whole model runs. Graph optimisations are off for this run, so that every kernel is
// one node of the file (fused kernels could not be told apart); the partitioner sums these times
// over the segments between cut points, and the stage plans are then timed as they will run.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from '../planner/stats.js';
import type { GraphAnalysis } from './graph-analysis.js';
import { ImportError } from './import-error.js';
import type { OnnxModel } from './onnx-reader.js';
import { onnx } from './onnx-schema.js';
import { createSession, type SessionSettings, type Tensors } from './ort-session.js';

interface ProfileEvent {
  cat?: string;
  name?: string;
  dur?: number;
}

const KERNEL_SUFFIX = '_kernel_time';

/** Milliseconds per activation node (index in analysis.nodes): the median over `runs` runs. */
export async function measureNodeCosts(
  model: OnnxModel,
  analysis: GraphAnalysis,
  inputs: Tensors,
  o: SessionSettings & { runs?: number; warmup?: number } = {},
): Promise<number[]> {
  const runs = o.runs ?? 5;
  const warmup = o.warmup ?? 1;
  const index = new Map(analysis.nodes.map((n, i) => [n, i]));
  // Every node gets a name of ours (unnamed nodes are common): `ms.<index>` for activation nodes.
  const node = (model.graph.node ?? []).map((n, j) => ({
    ...n,
    name: index.has(n) ? `ms.${index.get(n)}` : `ms.w${j}`,
  }));
  const bytes = onnx.ModelProto.encode({ ...model.proto, graph: { ...model.graph, node } }).finish();
  const dir = mkdtempSync(join(tmpdir(), 'meshserve-node-costs-'));
  const samples: number[][] = analysis.nodes.map(() => []);
  try {
    const session = await createSession(bytes, o, {
      graphOptimizationLevel: 'disabled',
      enableProfiling: true,
      profileFilePrefix: join(dir, 'profile'),
    });
    try {
      for (let i = 0; i < warmup + runs; i++) await session.run(pick(session.inputNames, inputs));
      session.endProfiling();
    } finally {
      await session.release();
    }
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    if (files.length === 0) throw new Error('onnxruntime wrote no profile');
    const events = JSON.parse(readFileSync(join(dir, files[0]), 'utf8')) as ProfileEvent[];
    const seen = analysis.nodes.map(() => 0);
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name?.endsWith(KERNEL_SUFFIX) || !e.name.startsWith('ms.')) continue;
      const i = Number(e.name.slice(3, -KERNEL_SUFFIX.length));
      if (!Number.isInteger(i) || !samples[i]) continue;
      // The warm-up runs come first: skip them.
      if (seen[i]++ >= warmup) samples[i].push((e.dur ?? 0) / 1000);
    }
  } catch (err) {
    throw new ImportError(
      'refused',
      `cannot time the model's nodes with onnxruntime's profiler: ${(err as Error).message}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return samples.map((s) => (s.length ? median(s) : 0));
}

function pick(names: readonly string[], tensors: Tensors): Tensors {
  return Object.fromEntries(names.map((n) => [n, tensors[n]]));
}
