// `meshserve dispatcher`: the dispatcher actor in this process (several may run: they share
// ms.infer.> as one queue group).
import type { Command } from 'commander';
import { serveActor } from '../../bus/index.js';
import { DISPATCHER_DEFAULTS } from '../../config/dispatcher.js';
import { setUpProcess } from '../../config/environment.js';
import { ACTOR_LOG_LEVEL } from '../../config/tools.js';
import { DashboardFeed } from '../../ops/dashboard/feed.js';
import { dashboardRoutes } from '../../ops/dashboard/http.js';
import { serveMetrics } from '../../ops/metrics-server.js';
import { Dispatcher } from '../../serving/dispatcher/dispatcher.js';
import { nonNegativeNumber, runOrFail } from './option-parsers.js';

export function registerDispatcher(program: Command): void {
  program
    .command('dispatcher')
    .description(
      'run a dispatcher actor serving ms.infer.<model> (NATS_URL / REDIS_URL, else the running `meshserve start` found here)',
    )
    .option('--name <name>', 'actor name (give each dispatcher its own)', 'dispatcher')
    .option(
      '--grace-ms <ms>',
      'answer with a timeout error this long after a deadline',
      nonNegativeNumber,
      DISPATCHER_DEFAULTS.graceMs,
    )
    .option(
      '--rate-interval-ms <ms>',
      'write observed per-model rates to Redis this often (0 = never)',
      nonNegativeNumber,
      DISPATCHER_DEFAULTS.rateIntervalMs,
    )
    .option(
      '--metrics-port <port>',
      'serve the dashboard, Prometheus /metrics and /healthz on this port (default: METRICS_PORT; unset = off)',
      nonNegativeNumber,
    )
    .action((o: { name: string; graceMs: number; rateIntervalMs: number; metricsPort?: number }) =>
      runOrFail('dispatcher', async () => {
        const { env, log } = setUpProcess(ACTOR_LOG_LEVEL);
        const dispatcher = new Dispatcher({ graceMs: o.graceMs, rateIntervalMs: o.rateIntervalMs });
        const port = o.metricsPort ?? env.metricsPort;
        await serveActor({
          name: o.name,
          instance: dispatcher,
          natsUrl: env.bus.natsUrl,
          redisUrl: env.bus.redisUrl,
          log,
          onReady: async (system) => {
            if (port === undefined) return;
            const feed = new DashboardFeed(system, { dispatcherName: o.name }).start();
            const server = await serveMetrics(() => dispatcher.metrics(), { port, routes: dashboardRoutes(feed) });
            const close = () => {
              feed.stop();
              void server.close();
            };
            process.once('SIGINT', close);
            process.once('SIGTERM', close);
          },
        });
      }),
    );
}
