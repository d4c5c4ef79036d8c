// `meshserve worker`: one simulated GPU worker actor in this process.
import type { Command } from 'commander';
import { hostname } from 'node:os';
import { GpuWorker, gpuWorkerArgs } from '../../actors/gpu-worker.js';
import { serveActor } from '../../actors/serve-actor.js';
import { positiveNumber, runOrFail } from './serving-options.js';

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
    .option('--executor <kind>', 'executor: sim (takes exactly the profiled stage time)', 'sim')
    .action((o: { id: string; memoryGib: number; executor: string }) =>
      runOrFail('worker', async () => {
        if (o.executor !== 'sim') throw new Error(`unknown executor "${o.executor}" (built in: sim)`);
        await serveActor({ name: o.id, instance: new GpuWorker({ memoryGiB: o.memoryGib, executor: 'sim' }), spawn: { args: gpuWorkerArgs } });
      }),
    );
}
