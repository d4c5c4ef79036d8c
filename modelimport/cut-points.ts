// Where the node order can be cut: between nodes i−1 and i, the tensors crossing are the
// activations produced before i (model inputs included) and still read at i or later (model
// outputs included). A cut point is a place where few tensors cross — at most `maxCrossing` — and
// all of them are float32, the tensors the wire carries. Weights never cross: a stage carries its
// own copies. The crossing tensors travel as one message, so together they must fit its size limit.
import type { GraphAnalysis } from './graph-analysis.js';
import { FLOAT32 } from './onnx-schema.js';
import type { TensorType } from './tensor-types.js';

export interface CutPoint {
  /** The cut falls before node `position` (1 … nodes − 1). */
  position: number;
  /** The tensors crossing it, in the order they were produced. */
  tensors: string[];
}

/** What crosses every position 0 … nodes (0: the model's inputs; nodes: its outputs). */
export function crossingAt(analysis: GraphAnalysis): (position: number) => string[] {
  const m = analysis.nodes.length;
  const produced = new Map<string, number>(analysis.inputs.map((n) => [n, -1]));
  analysis.nodes.forEach((node, i) => {
    for (const o of node.output ?? []) if (o) produced.set(o, i);
  });
  const lastRead = new Map<string, number>();
  analysis.uses.forEach((names, i) => {
    for (const n of names) if (produced.has(n)) lastRead.set(n, i);
  });
  for (const o of analysis.outputs) lastRead.set(o, m);
  return (position: number) => {
    if (position <= 0) return [...analysis.inputs];
    if (position >= m) return [...analysis.outputs];
    const out: string[] = [];
    for (const [name, p] of produced) {
      const last = lastRead.get(name);
      if (last !== undefined && p < position && last >= position) out.push(name);
    }
    return out;
  };
}

/** Bytes of a float32 tensor of these dims. */
const float32Bytes = (t: TensorType | undefined): number => 4 * (t?.dims.reduce((a, b) => a * b, 1) ?? 0);

export function findCutPoints(
  analysis: GraphAnalysis,
  types: ReadonlyMap<string, TensorType>,
  limits: { maxCrossing: number; maxBytes: number },
): CutPoint[] {
  const m = analysis.nodes.length;
  // One sweep: a tensor is live from its producer to its last reader.
  const start = new Map<number, string[]>();
  const end = new Map<string, number>();
  const crossing = crossingAt(analysis);
  const produced = new Map<string, number>(analysis.inputs.map((n) => [n, -1]));
  analysis.nodes.forEach((node, i) => {
    for (const o of node.output ?? []) if (o) produced.set(o, i);
  });
  analysis.uses.forEach((names, i) => {
    for (const n of names) if (produced.has(n)) end.set(n, Math.max(end.get(n) ?? -1, i));
  });
  for (const o of analysis.outputs) end.set(o, m);
  for (const [name, p] of produced) if (end.has(name)) (start.get(p) ?? start.set(p, []).get(p)!).push(name);
  const live = new Set<string>(start.get(-1) ?? []);
  const cuts: CutPoint[] = [];
  for (let position = 1; position < m; position++) {
    for (const n of start.get(position - 1) ?? []) live.add(n);
    for (const n of [...live]) if ((end.get(n) ?? -1) < position) live.delete(n);
    if (live.size === 0 || live.size > limits.maxCrossing) continue;
    if (![...live].every((n) => types.get(n)?.elemType === FLOAT32)) continue;
    if ([...live].reduce((bytes, n) => bytes + float32Bytes(types.get(n)), 0) > limits.maxBytes) continue;
    cuts.push({ position, tensors: crossing(position) });
  }
  return cuts;
}
