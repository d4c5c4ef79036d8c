// `meshserve worker`: one GPU worker actor in this process.
import { type Command, Option } from 'commander';
import { serveActor } from '../../bus/index.js';
import { setUpProcess } from '../../config/environment.js';
import { ACTOR_LOG_LEVEL } from '../../config/tools.js';
import {
  defaultDeviceId,
  EXECUTOR_KINDS,
  type ExecutorKind,
  WORKER_DEFAULTS,
  workerEnvironment,
} from '../../config/worker.js';
import { GpuWorker } from '../../serving/worker/gpu-worker.js';
import { positiveNumber, runOrFail } from './option-parsers.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run one GPU worker actor (NATS_URL / REDIS_URL else the running `meshserve start` found here)')
    .option('--id <device>', 'device id, also the actor name (default: MESHSERVE_DEVICE_ID, else gpu-<hostname>)')
    .option('--memory-gib <n>', 'weight-memory budget of the device, GiB', positiveNumber, WORKER_DEFAULTS.memoryGiB)
    .addOption(
      new Option(
        '--executor <kind>',
        "sim: takes exactly the profiled stage time; onnx: runs the model's generated graphs on onnxruntime (MESHSERVE_ORT_PROVIDER, MESHSERVE_ORT_THREADS)",
      )
        .choices(EXECUTOR_KINDS)
        .default(WORKER_DEFAULTS.executor),
    )
    .action((o: { id?: string; memoryGib: number; executor: ExecutorKind }) =>
      runOrFail('worker', async () => {
        const { env, log } = setUpProcess(ACTOR_LOG_LEVEL);
        const worker = new GpuWorker({ ...workerEnvironment(env), memoryGiB: o.memoryGib, executor: o.executor });
        await serveActor({
          name: o.id ?? defaultDeviceId(env),
          instance: worker,
          natsUrl: env.bus.natsUrl,
          redisUrl: env.bus.redisUrl,
          log,
        });
      }),
    );
}
