// Intra-operator sharding (op > 1) of an imported graph, where a pattern is recognised.
import type { GraphAnalysis } from './graph-analysis.js';

export interface ShardingReport {
  /** Whether op > 1 configs are offered. */
  offered: boolean;
  /** Which case applies, in words (the import prints it). */
  reason: string;
}

/** MatMul / Gemm nodes whose second input is a 2-D weight. */
export function constantWeightMatMuls(analysis: GraphAnalysis): number {
  return analysis.nodes.filter((n) => {
    if (n.opType !== 'MatMul' && n.opType !== 'Gemm') return false;
    const w = n.input?.[1] ?? '';
    return analysis.initializers.has(w) || analysis.weightNodes.has(w);
  }).length;
}

export function shardingReport(analysis: GraphAnalysis): ShardingReport {
  const found = constantWeightMatMuls(analysis);
  return {
    offered: false,
    reason:
      found === 0
        ? 'op > 1: not offered: no MatMul or Gemm with a constant weight to split; the planner places pipelines'
        : `op > 1: not offered: ${found} MatMul/Gemm node(s) with constant weights, but sharding imported graphs is not implemented; the planner places pipelines`,
  };
}
