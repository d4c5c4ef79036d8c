// `meshserve status`: what the live cluster at NATS_URL / REDIS_URL looks like.
import type { Command } from 'commander';
import { describeError, type ActorSystem } from '../../bus/index.js';
import { connectOperator } from '../../actors/connect-cluster.js';
import { connectTimeoutOption } from './connect-timeout.js';
import { aliveHere, collectStatus, formatStatus } from '../../actors/status.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the live cluster: actors, devices, groups, models, placement version, rates, attainment')
    .option('--json', 'print the snapshot as JSON')
    .addOption(connectTimeoutOption())
    .option('--dispatcher <name>', 'actor name of the dispatcher', 'dispatcher')
    .option('--alive-here', 'health check: exit 0 if an actor of this host is registered and ready, else 1')
    .action(async (opts: { json?: boolean; dispatcher: string; aliveHere?: boolean; connectTimeout: number }) => {
      process.env.LOG_LEVEL ??= 'warn';
      let system: ActorSystem | undefined;
      try {
        system = await connectOperator('meshserve-status', opts.connectTimeout);
        if (opts.aliveHere) {
          process.exitCode = aliveHere(await system.list()) ? 0 : 1;
          return;
        }
        const status = await collectStatus(system, { dispatcherName: opts.dispatcher });
        console.log(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status));
      } catch (err) {
        console.error(`status: ${describeError(err).message}`);
        process.exitCode = 1;
        if (!system) process.exit(1); // the abandoned connection attempt would keep retrying
      } finally {
        await system?.close();
      }
    });
}
