// Model selection on a fixed group layout (docs/alpaserve.md, "Placement", Algorithm 1).
//
// Both walk the same moves: add one model replica to one group where it fits. Each step simulates and
// reads two signals from the result: per model the requests not served well (requests − good), per
// group the requests routed to it.
// - - Fast greedy (what the reference runs): one simulation per step; take models by unserved
//   requests (most first), groups by routed requests (fewest first), add the first model that fits
//   on the first group that takes it. Ties go to the lower model / group index, so the result is
//   deterministic. It fills memory; we return the best placement seen on the way, the fullest of
//   equals (the reference returns the last, filled one; replicas that score the same on the
//   training traffic cost nothing and help on traffic it did not sample).
// - - Beam search (the paper's): keep the `beam` best candidates; expand each by the `expandModels`
//   most-unserved models that fit somewhere, on the `expandGroups` least-loaded distinct groups
//   (groups of equal config and models are interchangeable, so only one of each class is tried);
//   simulate every child once (duplicates reached by different paths are skipped); keep the top
//   `beam`; stop when nothing fits; return the best seen (the latest, fullest, of equals). With beam 1
//   and one model × one group it
//   walks exactly the greedy path.
import type { SimResult } from '../types.js';
import { candidateKey, type Scored, type SearchContext, type SearchGroup } from './search-context.js';

/** Model indices by unserved requests, most first (ties: lower index). */
function modelsByNeed(r: SimResult): number[] {
  const unserved = r.perModel.map((m) => m.requests - m.good);
  return unserved.map((_, i) => i).sort((a, b) => unserved[b] - unserved[a] || a - b);
}

/** Group indices by routed requests, fewest first (ties: lower index). */
function groupsByLoad(r: SimResult, groups: number): number[] {
  const routed = r.groupRouted;
  return Array.from({ length: groups }, (_, i) => i).sort((a, b) => (routed[a] ?? 0) - (routed[b] ?? 0) || a - b);
}

export function greedySelection(ctx: SearchContext, start: readonly SearchGroup[]): Scored {
  let current = ctx.evaluate(start);
  let best = current;
  for (;;) {
    const groupOrder = groupsByLoad(current.result, current.groups.length);
    let move: [number, number] | undefined;
    for (const m of modelsByNeed(current.result)) {
      const g = groupOrder.find((g) => ctx.fits(current.groups[g], m));
      if (g !== undefined) {
        move = [g, m];
        break;
      }
    }
    if (!move) return best;
    current = ctx.evaluate(ctx.withModel(current.groups, move[0], move[1]));
    if (current.score >= best.score) best = current;
  }
}

export interface BeamOptions {
  readonly beam: number;
  readonly expandModels: number;
  readonly expandGroups: number;
}

/** The children of one beam candidate, in a deterministic order. */
function expand(ctx: SearchContext, parent: Scored, opts: BeamOptions): [number, number][] {
  const groupOrder = groupsByLoad(parent.result, parent.groups.length);
  const moves: [number, number][] = [];
  let modelsTaken = 0;
  for (const m of modelsByNeed(parent.result)) {
    if (modelsTaken >= opts.expandModels) break;
    const classes = new Set<string>();
    for (const g of groupOrder) {
      if (classes.size >= opts.expandGroups) break;
      const group = parent.groups[g];
      if (!ctx.fits(group, m)) continue;
      const cls = `${group.config.pp}.${group.config.op}:${[...group.models].sort((a, b) => a - b).join(',')}`;
      if (classes.has(cls)) continue;
      classes.add(cls);
      moves.push([g, m]);
    }
    if (classes.size) modelsTaken++;
  }
  return moves;
}

export function beamSelection(ctx: SearchContext, start: readonly SearchGroup[], opts: BeamOptions): Scored {
  if (!(opts.beam >= 1) || !(opts.expandModels >= 1) || !(opts.expandGroups >= 1))
    throw new Error('beam, expandModels and expandGroups must be ≥ 1');
  let beam = [ctx.evaluate(start)];
  let best = beam[0];
  const seen = new Set<string>([candidateKey(start)]);
  for (;;) {
    const children: Scored[] = [];
    for (const parent of beam) {
      for (const [g, m] of expand(ctx, parent, opts)) {
        const groups = ctx.withModel(parent.groups, g, m);
        const key = candidateKey(groups);
        if (seen.has(key)) continue;
        seen.add(key);
        children.push(ctx.evaluate(groups));
      }
    }
    if (children.length === 0) return best;
    // Stable sort: equal scores keep generation order (deterministic).
    children.sort((a, b) => b.score - a.score);
    beam = children.slice(0, opts.beam);
    if (beam[0].score >= best.score) best = beam[0];
  }
}
