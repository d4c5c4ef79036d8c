// Where each serving actor's class lives once compiled, for processes that host one actor each
// (the bus Supervisor and actor-host): `meshserve start`, the reliability tests and the benches.
import { fileURLToPath } from 'node:url';

export interface ActorModule {
  /** Path of the compiled module. */
  readonly module: string;
  /** Name of the exported actor class. */
  readonly exportName: string;
}

const at = (file: string, exportName: string): ActorModule => ({
  module: fileURLToPath(new URL(file, import.meta.url)),
  exportName,
});

export const ACTOR_MODULES = {
  worker: at('./worker/gpu-worker.js', 'GpuWorker'),
  dispatcher: at('./dispatcher/dispatcher.js', 'Dispatcher'),
  planner: at('./planner-actor/planner-actor.js', 'PlannerActor'),
} as const satisfies Record<string, ActorModule>;

export type ActorRole = keyof typeof ACTOR_MODULES;
