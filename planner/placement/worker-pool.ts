// A small pool of worker threads for independent layout searches. Tasks are handed out one at a
// time (longest expected first is the caller's business), so a slow layout does not hold up the
// rest; results come back in task order. Each worker rebuilds the simulator from a copy of the
// input once, so it pays for itself only when the searches are long (see the placement bench).
import { Worker } from 'node:worker_threads';
import type { LayoutRunner, LayoutSolution, SelectionMode } from './layout-search.js';
import { cloneableInput } from './layout-search.js';
import type { GroupLayout, PlacementInput } from './types.js';

export class LayoutWorkerPool {
  private readonly workers: Worker[];

  constructor(input: PlacementInput, layouts: readonly GroupLayout[], size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`worker count must be a positive integer, got ${size}`);
    const workerData = { input: cloneableInput(input), layouts };
    this.workers = Array.from(
      { length: size },
      () => new Worker(new URL('./layout-worker.js', import.meta.url), { workerData }),
    );
  }

  readonly run: LayoutRunner = (tasks) =>
    new Promise<LayoutSolution[]>((resolve, reject) => {
      const out: LayoutSolution[] = new Array(tasks.length);
      let next = 0;
      let done = 0;
      let failed = false;
      if (tasks.length === 0) return resolve(out);
      const feed = (w: Worker) => {
        if (next >= tasks.length) return;
        const id = next++;
        const t = tasks[id];
        w.postMessage({ id, layout: t.layout, mode: t.mode satisfies SelectionMode });
      };
      const listeners = this.workers.map((w) => {
        const onMessage = (msg: { id: number; solution?: LayoutSolution; error?: string }) => {
          if (failed) return;
          if (msg.error !== undefined || !msg.solution) {
            failed = true;
            cleanup();
            return reject(new Error(`layout search worker: ${msg.error}`));
          }
          out[msg.id] = msg.solution;
          done++;
          if (done === tasks.length) {
            cleanup();
            resolve(out);
          } else feed(w);
        };
        const onError = (e: Error) => {
          if (failed) return;
          failed = true;
          cleanup();
          reject(e);
        };
        w.on('message', onMessage);
        w.on('error', onError);
        return { w, onMessage, onError };
      });
      const cleanup = () =>
        listeners.forEach(({ w, onMessage, onError }) => {
          w.off('message', onMessage);
          w.off('error', onError);
        });
      for (const w of this.workers) feed(w);
    });

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
