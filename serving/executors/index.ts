// The executors a GPU worker can run its stages with, by the name its settings give.
import type { ExecutorKind, WorkerSettings } from '../../config/worker.js';
import { OnnxStageExecutor } from './onnx-stage.js';
import { SimExecutor } from './sim.js';
import type { StageExecutor } from './stage-executor.js';

const EXECUTORS: Record<ExecutorKind, (s: WorkerSettings) => StageExecutor> = {
  sim: (s) => new SimExecutor(s.simPollMs),
  onnx: (s) => new OnnxStageExecutor(s.ort),
};

export function executorFor(settings: WorkerSettings): StageExecutor {
  const make = EXECUTORS[settings.executor];
  if (!make) throw new Error(`unknown executor "${settings.executor}"; built in: ${Object.keys(EXECUTORS).join(', ')}`);
  return make(settings);
}
