// Splitting a sequence of costs into k contiguous, non-empty parts so that the largest part
// is as small as possible (the pipeline's throughput is bounded by its slowest stage).

/**
 * Returns the start index of each of the `parts` parts (the first is always 0). Exact
 * dynamic programme, O(parts · n²); ties go to the earliest boundary, so the answer is
 * deterministic.
 */
export function balancedSplit(costs: readonly number[], parts: number): number[] {
  const n = costs.length;
  if (!Number.isInteger(parts) || parts < 1) throw new Error(`cannot split into ${parts} parts`);
  if (parts > n) throw new Error(`cannot split ${n} units into ${parts} non-empty parts`);
  const prefix = [0];
  for (const c of costs) prefix.push(prefix[prefix.length - 1] + c);
  const sum = (from: number, to: number): number => prefix[to] - prefix[from];
  // best[p][j]: the smallest possible max part when the first j units form p parts.
  const best: number[][] = Array.from({ length: parts + 1 }, () => new Array<number>(n + 1).fill(Infinity));
  const cut: number[][] = Array.from({ length: parts + 1 }, () => new Array<number>(n + 1).fill(0));
  best[0][0] = 0;
  for (let p = 1; p <= parts; p++) {
    for (let j = p; j <= n; j++) {
      for (let s = p - 1; s < j; s++) {
        const value = Math.max(best[p - 1][s], sum(s, j));
        if (value < best[p][j]) {
          best[p][j] = value;
          cut[p][j] = s;
        }
      }
    }
  }
  const starts = new Array<number>(parts);
  let end = n;
  for (let p = parts; p >= 1; p--) {
    starts[p - 1] = cut[p][end];
    end = cut[p][end];
  }
  return starts;
}
