// `meshserve start` (`npm start`): a local serving cluster on an embedded default
// (dev/local-run.ts): child nats-server and redis-server unless NATS_URL / REDIS_URL are set,
// a planner, a dispatcher and N simulated GPU workers, a bursty demo replay with a live progress
// line and the SLO attainment report, then serving until Ctrl-C (or --duration).
import type { Command } from 'commander';
import { setUpProcess } from '../../config/environment.js';
import { DEFAULT_STRATEGY } from '../../config/planner.js';
import { START_DEFAULTS, TOOL_LOG_LEVEL } from '../../config/tools.js';
import { describePlacement, runLocalCluster } from '../../dev/local-run.js';
import { nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber } from './option-parsers.js';
import { progressPrinter } from './progress.js';
import { printFidelity, printHuman } from './report.js';

interface StartOptions {
  duration?: number;
  workers: number;
  demoSeconds: number;
  demoRate: number;
  strategy?: string;
  metricsPort?: number;
  models?: string;
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description(
      'start a local serving cluster (nats-server and redis-server as child processes unless NATS_URL/REDIS_URL are set), replay a demo workload, keep serving',
    )
    .option(
      '--duration <seconds>',
      'stop by itself after this many seconds in all (default: run until Ctrl-C)',
      positiveNumber,
    )
    .option('--workers <n>', 'simulated GPU workers', positiveInt, START_DEFAULTS.workers)
    .option(
      '--demo-seconds <s>',
      'length of the demo workload (0 = no demo)',
      nonNegativeNumber,
      START_DEFAULTS.demoSeconds,
    )
    .option('--demo-rate <req/s>', 'total request rate of the demo workload', positiveNumber, START_DEFAULTS.demoRate)
    .option(
      '--metrics-port <port>',
      "serve the dispatcher's Prometheus /metrics and /healthz on 127.0.0.1:<port> (0 = a free port; default: METRICS_PORT; unset = off)",
      nonNegativeInt,
    )
    .option(
      '--models <repository>',
      'serve the models of this repository (<name>/model.onnx + <name>/meshserve.json) on ONNX workers instead of the demo',
    )
    .option(
      '--strategy <name>',
      `placement strategy (default: the demo's groups on 8 workers, else ${DEFAULT_STRATEGY})`,
    )
    .action(async (o: StartOptions) => {
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const progress = progressPrinter();
      try {
        const { env, log, logLevel } = setUpProcess(TOOL_LOG_LEVEL);
        await runLocalCluster(
          {
            ...env.servers,
            workers: o.workers,
            demoSeconds: o.demoSeconds,
            demoRate: o.demoRate,
            strategy: o.strategy,
            models: o.models,
            durationSeconds: o.duration,
            metricsPort: o.metricsPort ?? env.metricsPort,
            logLevel,
            log,
            signal: abort.signal,
          },
          {
            info: (line) => console.log(line),
            progress: progress.update,
            demoDone: (r, interrupted) => {
              progress.done();
              if (interrupted || !r) {
                console.log('demo interrupted: no report for a partial run');
                return;
              }
              console.log(describePlacement(r.placement));
              printHuman(r.liveSummary, 'earliest-finish');
              printFidelity(r.fidelity);
            },
          },
        );
      } catch (err) {
        console.error(`start failed: ${(err as Error).message}`);
        process.exitCode = 1;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
