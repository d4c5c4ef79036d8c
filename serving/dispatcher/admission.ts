// The dispatcher's admission rule: among the routable groups hosting the model, take the one with
// the earliest estimated finish (the simulator's latency model, on the group's clocks); when even
// that finish misses the request's deadline, reject the request at once, with the estimate as the
// reason: no queueing for a lost cause.
import type { MeshGroup } from './groups.js';

export type Admission =
  /** Book it on `group`; it should finish at `finish` (epoch s, overhead included). */
  | { readonly kind: 'accept'; readonly group: MeshGroup; readonly finish: number }
  /** Even the earliest finish, on `group`, misses the deadline. */
  | { readonly kind: 'reject'; readonly group: MeshGroup; readonly finish: number }
  /** No group hosting the model is routable. */
  | { readonly kind: 'no-group' };

/**
 * Decides for a request of `model` arriving at `t` with `deadline` (epoch s; Infinity = none).
 * `routable` says which groups may be used; `onRoutable` sees each one that may (to readmit it).
 * Nothing is booked: the caller commits an accepted request on the group's clocks.
 */
export function admit(
  groups: readonly MeshGroup[],
  model: string,
  t: number,
  deadline: number,
  routable: (g: MeshGroup) => boolean,
  onRoutable: (g: MeshGroup) => void,
): Admission {
  let best: MeshGroup | undefined;
  let bestFinish = Infinity;
  for (const g of groups) {
    if (!routable(g)) continue;
    onRoutable(g);
    const finish = g.latency.tentativeFinish(model, t);
    if (finish < bestFinish) {
      bestFinish = finish;
      best = g;
    }
  }
  if (!best) return { kind: 'no-group' };
  return { kind: bestFinish > deadline ? 'reject' : 'accept', group: best, finish: bestFinish };
}
