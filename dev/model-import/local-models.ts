// `npm start -- --models <repository>`: the local cluster's workers run ONNX, and the repository
// is imported and placed on them, as `meshserve serve` does on a cluster of its own.
import type { ActorSystem } from '../../bus/index.js';
import type { GpuWorkerOptions } from '../../config/worker.js';
import { describeServed } from './describe.js';
import { serveRepository } from './serve-repository.js';

/** Local ONNX workers: one intra-op thread each, as every one stands for one core (how imports are measured). */
export const LOCAL_ONNX_WORKER: GpuWorkerOptions = { executor: 'onnx', ort: { intraOpThreads: 1 } };

export async function serveLocalRepository(
  system: ActorSystem,
  natsUrl: string,
  repository: string,
  info: (line: string) => void,
): Promise<void> {
  const r = await serveRepository(system, repository, { natsUrl, onProgress: info });
  for (const line of describeServed(r, system.subjects.prefix).split('\n')) info(line);
}
