// The reference's placement ranking (docs/alpaserve.md, "The reference simulator"): attainment first,
// then lower mean latency, then more replicas, as tie-breakers small enough never to outweigh one
// request of attainment.
import type { Placement, SimResult } from '../types.js';

export function replicaCount(p: Placement): number {
  let n = 0;
  for (const g of p.groups) n += g.models.length;
  return n;
}

/** score = attainment − mean_latency/10⁴ + replicas/10⁶; rejected requests count latency 0 in the mean. */
export function placementScore(r: SimResult, replicas: number): number {
  if (!(r.requests > 0)) return replicas / 1e6;
  const meanOverAll = r.served > 0 ? (r.latency.mean * r.served) / r.requests : 0;
  return r.attainment - meanOverAll / 1e4 + replicas / 1e6;
}
