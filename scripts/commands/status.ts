// `meshserve status`: what the live cluster at NATS_URL / REDIS_URL looks like.
import type { Command } from 'commander';
import type { ActorSystem } from '../../bus/index.js';
import { describeCluster, setUpProcess } from '../../config/environment.js';
import { TOOL_LOG_LEVEL } from '../../config/tools.js';
import { connectOperator } from '../../ops/connect.js';
import { aliveHere, collectStatus, formatStatus, isEmpty } from '../../ops/status.js';
import { connectTimeoutOption } from './connect-timeout.js';
import { fail } from './errors.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'show the live cluster (NATS_URL / REDIS_URL, else the running `meshserve start` found here): actors, devices, groups, models, placement version, rates, attainment; exit 1 when nothing runs on it',
    )
    .option('--json', 'print the snapshot as JSON')
    .addOption(connectTimeoutOption())
    .option('--dispatcher <name>', 'actor name of the dispatcher', 'dispatcher')
    .option('--alive-here', 'health check: exit 0 if an actor of this host is registered and ready, else 1')
    .action(async (opts: { json?: boolean; dispatcher: string; aliveHere?: boolean; connectTimeout: number }) => {
      let system: ActorSystem | undefined;
      try {
        const { env, log } = setUpProcess(TOOL_LOG_LEVEL);
        const cluster = describeCluster(env);
        system = await connectOperator('meshserve-status', { ...env.bus, timeoutMs: opts.connectTimeout, log }).catch(
          (err: unknown) => {
            throw new Error(`${(err as Error).message}; the cluster: ${cluster}`);
          },
        );
        if (opts.aliveHere) {
          process.exitCode = aliveHere(await system.list()) ? 0 : 1;
          return;
        }
        const status = { cluster, ...(await collectStatus(system, { dispatcherName: opts.dispatcher })) };
        console.log(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status));
        if (isEmpty(status)) process.exitCode = 1;
      } catch (err) {
        fail('status', err);
        if (!system) process.exit(1); // the abandoned connection attempt would keep retrying
      } finally {
        await system?.close();
      }
    });
}
