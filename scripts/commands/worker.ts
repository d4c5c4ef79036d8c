// `meshserve worker`: one GPU worker actor in this process.
import { Option, type Command } from 'commander';
import { hostname } from 'node:os';
import { EXECUTOR_KINDS, GpuWorker, gpuWorkerArgs, type ExecutorKind } from '../../actors/gpu-worker.js';
import { serveActor } from '../../actors/serve-actor.js';
import { positiveNumber, runOrFail } from './option-parsers.js';

/** A subject-safe id unique per container when replicas share one command line. */
function defaultDeviceId(): string {
  return process.env.MESHSERVE_DEVICE_ID ?? `gpu-${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run one GPU worker actor (NATS_URL / REDIS_URL from the environment)')
    .option('--id <device>', 'device id, also the actor name (default: MESHSERVE_DEVICE_ID, else gpu-<hostname>)', defaultDeviceId())
    .option('--memory-gib <n>', 'weight-memory budget of the device, GiB', positiveNumber, 13)
    .addOption(
      new Option('--executor <kind>', 'sim: takes exactly the profiled stage time; onnx: runs the model\'s generated graphs on onnxruntime (MESHSERVE_ORT_PROVIDER, MESHSERVE_ORT_THREADS)')
        .choices(EXECUTOR_KINDS)
        .default('sim'),
    )
    .action((o: { id: string; memoryGib: number; executor: ExecutorKind }) =>
      runOrFail('worker', async () => {
        await serveActor({ name: o.id, instance: new GpuWorker({ memoryGiB: o.memoryGib, executor: o.executor }), spawn: { args: gpuWorkerArgs } });
      }),
    );
}
