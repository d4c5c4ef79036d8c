// AlpaServe's outer loop (docs/alpaserve.md, "Placement"): try every group layout, run model selection on each, keep
// the best by score. Layouts where no model fits any group are pruned before simulating. The
// fast greedy runs on every layout; beam search (beam > 1) then runs on the `beamLayouts` best
// layouts, and the overall best of both is returned (beam search starts from scratch, so on an
// unlucky layout it can end below the greedy; keeping both makes the result never worse).
//
// Layout searches are independent, so they can run on worker threads (`workers` > 1); the answer
// does not depend on it: results are combined in layout order, best score first, ties to the
// lower layout index.

import type { SearchContext, SearchGroup } from './search-context.js';
import { type BeamOptions, beamSelection, greedySelection } from './selection.js';
import type { GroupLayout, PlacementInput, SearchProgress, SearchStats } from './types.js';

export type SelectionMode = { readonly kind: 'greedy' } | ({ readonly kind: 'beam' } & BeamOptions);

/** A serialisable search outcome on one layout (what a worker thread sends back). */
export interface LayoutSolution {
  readonly layout: number;
  readonly groups: readonly SearchGroup[];
  readonly score: number;
  readonly attainment: number;
  readonly simulations: number;
}

/** Solves one layout in this thread. */
export function solveLayout(
  ctx: SearchContext,
  layouts: readonly GroupLayout[],
  layout: number,
  mode: SelectionMode,
): LayoutSolution {
  const before = ctx.simulations;
  const start = ctx.emptyGroups(layouts[layout]);
  const best = mode.kind === 'greedy' ? greedySelection(ctx, start) : beamSelection(ctx, start, mode);
  return {
    layout,
    groups: best.groups,
    score: best.score,
    attainment: best.attainment,
    simulations: ctx.simulations - before,
  };
}

/** Runs layout tasks, in this thread or on a worker pool; results in task order. */
export type LayoutRunner = (tasks: readonly { layout: number; mode: SelectionMode }[]) => Promise<LayoutSolution[]>;

/** Progress after task i of a batch: the batch's phase is its tasks' selection mode. */
function reportSolved(report: ((p: SearchProgress) => void) | undefined, tasks: LayoutTasks, i: number): void {
  report?.({ phase: tasks[i].mode.kind, done: i + 1, total: tasks.length });
}

/** `report`: progress after each task (a long search's progress line). */
export function inThreadRunner(
  ctx: SearchContext,
  layouts: readonly GroupLayout[],
  report?: (p: SearchProgress) => void,
): LayoutRunner {
  return async (tasks) =>
    tasks.map((t, i) => {
      const s = solveLayout(ctx, layouts, t.layout, t.mode);
      reportSolved(report, tasks, i);
      return s;
    });
}

export interface LayoutSearchOptions {
  /** Beam width; ≤ 1 = fast greedy only. */
  readonly beam?: number;
  readonly expandModels?: number;
  readonly expandGroups?: number;
  readonly beamLayouts?: number;
  /** Progress of a long search: after each layout searched in this thread, after each batch on a worker pool. */
  readonly onProgress?: (p: SearchProgress) => void;
}

/** Defaults chosen by the placement bench (docs/benchmarks.md, "placement"). */
export const BEAM_DEFAULTS = { expandModels: 3, expandGroups: 3, beamLayouts: 2 } as const;

function better(a: LayoutSolution, b: LayoutSolution | undefined): boolean {
  return !b || a.score > b.score || (a.score === b.score && a.layout < b.layout);
}

export interface LayoutSearchOutcome {
  readonly best: LayoutSolution | undefined;
  readonly stats: SearchStats;
}

/** Layout tasks a search asks to have solved; it is resumed with their solutions, in order. */
export type LayoutTasks = readonly { layout: number; mode: SelectionMode }[];
/** A search written once, driven in this thread (searchLayoutsSync) or through a runner (searchLayouts). */
export type LayoutSearchSteps<T> = Generator<LayoutTasks, T, LayoutSolution[]>;

/** The search itself: yields the tasks it needs solved, returns the outcome. */
export function* layoutSearchSteps(
  ctx: SearchContext,
  layouts: readonly GroupLayout[],
  options: LayoutSearchOptions,
): LayoutSearchSteps<LayoutSearchOutcome> {
  const usable = layouts.map((_, i) => i).filter((i) => layouts[i].some((c) => ctx.anyFits(c)));
  const stats: SearchStats = { simulations: 0, layouts: usable.length, layoutsPruned: layouts.length - usable.length };
  const greedy = yield usable.map((layout) => ({ layout, mode: { kind: 'greedy' } }));
  let best: LayoutSolution | undefined;
  for (const s of greedy) {
    stats.simulations += s.simulations;
    if (better(s, best)) best = s;
  }
  const beam = options.beam ?? 1;
  if (beam > 1 && greedy.length) {
    const top = [...greedy]
      .sort((a, b) => b.score - a.score || a.layout - b.layout)
      .slice(0, options.beamLayouts ?? BEAM_DEFAULTS.beamLayouts);
    const mode: SelectionMode = {
      kind: 'beam',
      beam,
      expandModels: options.expandModels ?? BEAM_DEFAULTS.expandModels,
      expandGroups: options.expandGroups ?? BEAM_DEFAULTS.expandGroups,
    };
    const beamed = yield top.map((s) => ({ layout: s.layout, mode }));
    const greedyBest = best!;
    stats.beamBeatGreedy = false;
    for (const s of beamed) {
      stats.simulations += s.simulations;
      if (s.score > greedyBest.score) stats.beamBeatGreedy = true;
      if (better(s, best)) best = s;
    }
  }
  return { best, stats };
}

/** Drives a search through `runner` (a worker pool, or this thread). */
export async function driveSteps<T>(steps: LayoutSearchSteps<T>, runner: LayoutRunner): Promise<T> {
  let step = steps.next([]);
  while (!step.done) step = steps.next(await runner(step.value));
  return step.value;
}

/** Drives a search in this thread, synchronously (`solve` solves one task). */
export function driveStepsSync<T>(
  steps: LayoutSearchSteps<T>,
  solve: (task: LayoutTasks[number], index: number, tasks: LayoutTasks) => LayoutSolution,
): T {
  let step = steps.next([]);
  while (!step.done) step = steps.next(step.value.map(solve));
  return step.value;
}

/** Searches the layouts that can host anything; `best` is undefined when none can. */
export function searchLayouts(
  ctx: SearchContext,
  layouts: readonly GroupLayout[],
  options: LayoutSearchOptions,
  runner?: LayoutRunner,
): Promise<LayoutSearchOutcome> {
  const report = options.onProgress;
  const run: LayoutRunner = runner
    ? async (tasks) => {
        const out = await runner(tasks);
        if (tasks.length) reportSolved(report, tasks, tasks.length - 1);
        return out;
      }
    : inThreadRunner(ctx, layouts, report);
  return driveSteps(layoutSearchSteps(ctx, layouts, options), run);
}

/** searchLayouts in this thread, synchronously (for callers that cannot wait: online re-placement). */
export function searchLayoutsSync(
  ctx: SearchContext,
  layouts: readonly GroupLayout[],
  options: LayoutSearchOptions,
): LayoutSearchOutcome {
  return driveStepsSync(layoutSearchSteps(ctx, layouts, options), (t, i, tasks) => {
    const s = solveLayout(ctx, layouts, t.layout, t.mode);
    reportSolved(options.onProgress, tasks, i);
    return s;
  });
}

/** The input fields a worker needs to rebuild the search context (all structured-cloneable). */
export function cloneableInput(input: PlacementInput): PlacementInput {
  const profiles = input.profiles instanceof Map ? [...input.profiles.values()] : input.profiles;
  return { cluster: input.cluster, profiles, workload: input.workload, sim: input.sim };
}
