// The graph as the partitioner sees it. Weights are initializers, Constant nodes, and nodes that
// compute only from weights (a transposed or reshaped weight): a stage that needs one gets its own
// copy. Everything else is an activation node; the live ones (whose results reach an output) are
// put in a topological order, the file's own when it is one. A node that holds subgraphs (If, Loop,
// Scan) is one unit: the names its subgraphs read from the outer scope count as its inputs, so no
// cut can fall inside it.
import { ImportError } from './import-error.js';
import type { OnnxModel } from './onnx-reader.js';
import { type NodeProto, subgraphs, type TensorProto } from './onnx-schema.js';

export interface GraphAnalysis {
  /** Live activation nodes in topological order. */
  readonly nodes: readonly NodeProto[];
  /** Per node: every name it reads (its inputs and its subgraphs' outer references), without duplicates. */
  readonly uses: ReadonlyArray<readonly string[]>;
  /** Weight-producing nodes by the names they produce (Constant nodes and nodes computing only from weights). */
  readonly weightNodes: ReadonlyMap<string, NodeProto>;
  /** Those nodes in file order, so a stage can list the ones it copies in a valid order. */
  readonly weightNodeOrder: readonly NodeProto[];
  readonly initializers: ReadonlyMap<string, TensorProto>;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Nodes whose results reach no output (left out of every stage). */
  readonly deadNodes: number;
}

/** Ops whose output differs from run to run: never folded into a weight. */
const RANDOM_OPS = new Set([
  'RandomNormal',
  'RandomUniform',
  'RandomNormalLike',
  'RandomUniformLike',
  'Multinomial',
  'Bernoulli',
]);

const isDefaultDomain = (n: NodeProto): boolean => !n.domain || n.domain === 'ai.onnx';

/** Names a node reads: its inputs, then whatever its subgraphs take from the outer scope. */
function nodeUses(node: NodeProto): string[] {
  const names = new Set((node.input ?? []).filter((n) => n !== ''));
  for (const g of subgraphs(node)) for (const n of outerReferences(g)) names.add(n);
  return [...names];
}

/** Names a subgraph (and its own subgraphs) reads but does not define. */
function outerReferences(g: NonNullable<ReturnType<typeof subgraphs>[number]>): Set<string> {
  const defined = new Set<string>([
    ...(g.input ?? []).map((v) => v.name ?? ''),
    ...(g.initializer ?? []).map((t) => t.name ?? ''),
  ]);
  const outer = new Set<string>();
  for (const node of g.node ?? []) {
    for (const name of nodeUses(node)) if (!defined.has(name)) outer.add(name);
    for (const o of node.output ?? []) defined.add(o);
  }
  for (const o of g.output ?? []) if (!defined.has(o.name ?? '')) outer.add(o.name ?? '');
  return outer;
}

/** The file's node order if it is topological, else a stable topological sort (file order among ready nodes). */
function topological(nodes: readonly NodeProto[], uses: readonly string[][], available: Set<string>): number[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.output ?? []) if (o) producer.set(o, i);
  });
  for (const [i, names] of uses.entries()) {
    for (const name of names) {
      if (!available.has(name) && !producer.has(name))
        throw new ImportError(
          'unsupported',
          `node ${nodes[i].name || i} (${nodes[i].opType}) reads "${name}", which nothing produces`,
        );
    }
  }
  const inFileOrder = uses.every((names, i) => names.every((n) => available.has(n) || (producer.get(n) ?? i) < i));
  if (inFileOrder) return nodes.map((_, i) => i);
  const waiting = uses.map((names) => names.filter((n) => !available.has(n)).length);
  const readers = new Map<string, number[]>();
  uses.forEach((names, i) => {
    for (const n of names) if (!available.has(n)) (readers.get(n) ?? readers.set(n, []).get(n)!).push(i);
  });
  const ready = waiting.flatMap((w, i) => (w === 0 ? [i] : []));
  const order: number[] = [];
  while (ready.length) {
    ready.sort((a, b) => a - b);
    const i = ready.shift()!;
    order.push(i);
    for (const o of nodes[i].output ?? []) for (const r of readers.get(o) ?? []) if (--waiting[r] === 0) ready.push(r);
  }
  if (order.length !== nodes.length) throw new ImportError('unsupported', 'the graph has a cycle');
  return order;
}

export function analyseGraph(model: OnnxModel): GraphAnalysis {
  const graph = model.graph;
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const inputs = model.inputs.map((i) => i.name);
  const outputs = model.outputs.map((o) => o.name);
  const all = graph.node ?? [];
  const allUses = all.map(nodeUses);
  const order = topological(all, allUses, new Set([...inputs, ...initializers.keys()]));

  // Weights: initializers, Constant nodes, and deterministic nodes fed only by weights.
  const weight = new Set<string>(initializers.keys());
  const weightNode = new Set<number>();
  for (const i of order) {
    const n = all[i];
    const isConstant = n.opType === 'Constant' && isDefaultDomain(n) && (n.input ?? []).length === 0;
    const fromWeights =
      isDefaultDomain(n) &&
      !RANDOM_OPS.has(n.opType ?? '') &&
      subgraphs(n).length === 0 &&
      allUses[i].length > 0 &&
      allUses[i].every((u) => weight.has(u));
    if (isConstant || fromWeights) {
      weightNode.add(i);
      for (const o of n.output ?? []) if (o) weight.add(o);
    }
  }
  for (const o of outputs) {
    if (weight.has(o) || inputs.includes(o))
      throw new ImportError('unsupported', `output "${o}" is a weight or an input, not computed by the model`);
  }

  // Live activation nodes: walk back from the outputs.
  const producer = new Map<string, number>();
  for (const i of order) for (const o of all[i].output ?? []) if (o) producer.set(o, i);
  const live = new Set<number>();
  const stack = [...outputs];
  while (stack.length) {
    const p = producer.get(stack.pop()!);
    if (p === undefined || live.has(p)) continue;
    live.add(p);
    stack.push(...allUses[p]);
  }
  const activation = order.filter((i) => live.has(i) && !weightNode.has(i));
  const weightNodes = new Map<string, NodeProto>();
  const weightNodeOrder: NodeProto[] = [];
  for (const i of order) {
    if (!weightNode.has(i)) continue;
    weightNodeOrder.push(all[i]);
    for (const o of all[i].output ?? []) if (o) weightNodes.set(o, all[i]);
  }
  return {
    nodes: activation.map((i) => all[i]),
    uses: activation.map((i) => allUses[i]),
    weightNodes,
    weightNodeOrder,
    initializers,
    inputs,
    outputs,
    deadNodes: order.filter((i) => !live.has(i) && !weightNode.has(i)).length,
  };
}

/** Weight names a set of names depends on, closed over weight nodes: what a stage must carry. */
export function weightClosure(
  analysis: GraphAnalysis,
  names: Iterable<string>,
): { initializers: Set<string>; nodes: Set<NodeProto> } {
  const initializers = new Set<string>();
  const nodes = new Set<NodeProto>();
  const stack = [...names];
  while (stack.length) {
    const name = stack.pop()!;
    if (analysis.initializers.has(name)) initializers.add(name);
    const node = analysis.weightNodes.get(name);
    if (node && !nodes.has(node)) {
      nodes.add(node);
      stack.push(...nodeUses(node));
    }
  }
  return { initializers, nodes };
}
