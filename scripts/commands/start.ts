// `meshserve start`: for now, the bus on a local infrastructure with a demo actor. A later
// issue replaces the demo with the real cluster (planner, dispatcher, GPU workers).
import { InvalidArgumentError, type Command } from 'commander';
import { ActorSystem } from '../../bus/index.js';
import { runBusDemo } from '../../bus/demo.js';
import { startLocalInfrastructure } from '../../bus/testing/local-servers.js';

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start a local cluster on an embedded default (nats-server and redis-server as child processes unless NATS_URL/REDIS_URL are set)')
    .option('--duration <seconds>', 'stop by itself after this many seconds (default: run until Ctrl-C)', positiveSeconds)
    .action(async (opts: { duration?: number }) => {
      process.env.LOG_LEVEL ??= 'warn';
      let infra;
      try {
        infra = await startLocalInfrastructure({ natsUrl: process.env.NATS_URL, redisUrl: process.env.REDIS_URL });
      } catch (err) {
        console.error(`start failed: ${(err as Error).message}`);
        process.exitCode = 1;
        return;
      }
      let system: ActorSystem | undefined;
      try {
        console.log(`nats:  ${infra.natsUrl}${process.env.NATS_URL ? '' : ' (child nats-server)'}`);
        console.log(`redis: ${infra.redisUrl}${process.env.REDIS_URL ? '' : ' (child redis-server)'}`);
        system = await ActorSystem.connect({ natsUrl: infra.natsUrl, redisUrl: infra.redisUrl, name: 'meshserve-start' });
        const demo = await runBusDemo(system);
        console.log('call greeter.greet("meshserve") ->', JSON.stringify(demo.reply));
        console.log('registry entry:', JSON.stringify(demo.entry));
        console.log('$SRV.INFO.greeter:', JSON.stringify(demo.discovery));
        console.log(opts.duration ? `running for ${opts.duration} s` : 'running; Ctrl-C to stop');
        await new Promise<void>((resolve) => {
          const timer = opts.duration ? setTimeout(resolve, opts.duration * 1000) : undefined;
          const stop = (): void => {
            clearTimeout(timer);
            resolve();
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        console.log('stopping: draining actors');
      } catch (err) {
        console.error(`start failed: ${(err as Error).message}`);
        process.exitCode = 1;
      } finally {
        await system?.close();
        await infra.close();
      }
    });
}
