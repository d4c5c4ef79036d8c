// `meshserve dispatcher`: the dispatcher actor in this process (several may run: they share
// ms.infer.> as one queue group).
import type { Command } from 'commander';
import { Dispatcher } from '../../actors/dispatcher.js';
import { serveActor } from '../../actors/serve-actor.js';
import { metricsSnapshot } from '../../actors/dispatcher-metrics.js';
import { metricsPortFrom, serveMetrics } from '../../actors/metrics.js';
import { nonNegativeNumber, runOrFail } from './option-parsers.js';

export function registerDispatcher(program: Command): void {
  program
    .command('dispatcher')
    .description('run a dispatcher actor serving ms.infer.<model> (NATS_URL / REDIS_URL from the environment)')
    .option('--name <name>', 'actor name (give each dispatcher its own)', 'dispatcher')
    .option('--grace-ms <ms>', 'answer with a timeout error this long after a deadline', nonNegativeNumber, 2000)
    .option('--rate-interval-ms <ms>', 'write observed per-model rates to Redis this often (0 = never)', nonNegativeNumber, 5000)
    .option('--metrics-port <port>', 'serve Prometheus /metrics and /healthz on this port (default: METRICS_PORT; unset = off)', nonNegativeNumber)
    .action((o: { name: string; graceMs: number; rateIntervalMs: number; metricsPort?: number }) => {
      const dispatcher = new Dispatcher({ graceMs: o.graceMs, rateIntervalMs: o.rateIntervalMs });
      const port = o.metricsPort ?? metricsPortFrom();
      return runOrFail('dispatcher', () =>
        serveActor({
          name: o.name,
          instance: dispatcher,
          onReady: async () => {
            if (port === undefined) return;
            const server = await serveMetrics(() => metricsSnapshot(dispatcher.stats()), { port });
            process.once('SIGINT', () => void server.close());
            process.once('SIGTERM', () => void server.close());
          },
        }),
      );
    });
}
