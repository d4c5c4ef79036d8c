// Worker-thread side of the parallel layout search: rebuilds the search context once from the
// cloned input, then solves the layout tasks it is sent, one message per task.
import { parentPort, workerData } from 'node:worker_threads';
import { type SelectionMode, solveLayout } from './layout-search.js';
import { SearchContext } from './search-context.js';
import type { GroupLayout, PlacementInput } from './types.js';

const { input, layouts } = workerData as { input: PlacementInput; layouts: GroupLayout[] };
const ctx = new SearchContext(input);
parentPort!.on('message', (task: { id: number; layout: number; mode: SelectionMode }) => {
  try {
    parentPort!.postMessage({ id: task.id, solution: solveLayout(ctx, layouts, task.layout, task.mode) });
  } catch (e) {
    parentPort!.postMessage({ id: task.id, error: (e as Error).message });
  }
});
