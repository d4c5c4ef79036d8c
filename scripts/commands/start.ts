// `meshserve start` (`npm start`): a local serving cluster on an embedded default
// (dev/local-run.ts): child nats-server and redis-server unless NATS_URL / REDIS_URL are set,
// a planner, a dispatcher and N simulated GPU workers, the dashboard, a bursty demo replay with a
// live progress line and its report, then serving until Ctrl-C (or --duration). What it prints
// is in start-report.ts.
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { findClusterRecord } from '../../config/cluster-record.js';
import { setUpProcess } from '../../config/environment.js';
import { DEFAULT_STRATEGY } from '../../config/planner.js';
import { START_DEFAULTS, TOOL_LOG_LEVEL } from '../../config/tools.js';
import { localStrategy, runLocalCluster } from '../../dev/local-run.js';
import { checkFileStrategy, loadPlacementFile } from '../../dev/placement-file.js';
import { placedDevices } from '../../serving/protocol/placement.js';
import { fail } from './errors.js';
import {
  type AdaptivePolicyFlags,
  adaptivePolicyOf,
  addAdaptivePolicyOptions,
  nonNegativeInt,
  nonNegativeNumber,
  positiveInt,
  positiveNumber,
  strategyName,
} from './option-parsers.js';
import { progressPrinter } from './progress.js';
import { bannerLines, printDemoReport } from './start-report.js';

interface StartOptions extends AdaptivePolicyFlags {
  duration?: number;
  workers?: number;
  placement?: string;
  demoSeconds: number;
  demoRate: number;
  strategy?: string;
  metricsPort?: number;
  metrics: boolean;
  models?: string;
  verbose?: boolean;
}

/** A cluster this directory's record names that still runs: starting another would hide it. */
function runningHere(cwd: string): string | undefined {
  const found = findClusterRecord(cwd);
  if (!found?.live || resolve(dirname(dirname(found.file))) !== resolve(cwd)) return undefined;
  return `a cluster started in this directory is still running (pid ${found.record.pid}, recorded in ${found.file}): stop it first (Ctrl-C where it runs), or start another one from another directory`;
}

export function registerStart(program: Command): void {
  const start = program
    .command('start')
    .description(
      'start a local serving cluster (nats-server and redis-server as child processes unless NATS_URL/REDIS_URL are set), with a dashboard; replay a demo workload, keep serving',
    )
    .option(
      '--duration <seconds>',
      'stop by itself after this many seconds in all, the demo shortened to fit (default: run until Ctrl-C)',
      positiveNumber,
    )
    .option(
      '--workers <n>',
      `simulated GPU workers (default ${START_DEFAULTS.workers}, or the devices a --placement file uses)`,
      positiveInt,
    )
    .option(
      '--demo-seconds <s>',
      'length of the demo workload (0 = no demo)',
      nonNegativeNumber,
      START_DEFAULTS.demoSeconds,
    )
    .option('--demo-rate <req/s>', 'total request rate of the demo workload', positiveNumber, START_DEFAULTS.demoRate)
    .option(
      '--metrics-port <port>',
      'serve the dashboard, Prometheus /metrics and /healthz on 127.0.0.1:<port> (default: METRICS_PORT, else a free port)',
      nonNegativeInt,
    )
    .option('--no-metrics', 'serve no dashboard and no /metrics')
    .option(
      '--models <repository>',
      'serve the models of this repository (<name>/model.onnx + <name>/meshserve.json) on ONNX workers instead of the demo',
    )
    .option(
      '--strategy <name>',
      `placement strategy (default: the demo's groups on 8 workers, else ${DEFAULT_STRATEGY})`,
      strategyName,
    )
    .option(
      '--placement <file>',
      'serve this placement file (as `meshserve place` or `plan` writes it): its models on its groups, no demo; with --strategy adaptive, re-placed from there as traffic moves',
    );
  addAdaptivePolicyOptions(start)
    .option('--verbose', "the demo's full report: per model, per group, and the fidelity figures (docs/runtime.md)")
    .addHelpText(
      'after',
      `
It writes .meshserve/cluster.json in this directory while it runs: meshserve status, infer, repl, …
and examples/python_client.py run from here (or below) find the cluster through it.
Logs are human-readable on a terminal, JSON lines otherwise (LOG_LEVEL, default warn).`,
    )
    .action(async (o: StartOptions) => {
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const progress = progressPrinter();
      try {
        const { env, log, logLevel } = setUpProcess(TOOL_LOG_LEVEL);
        const cwd = process.cwd();
        const busy = runningHere(cwd);
        if (busy) throw new Error(busy);
        if (o.placement && o.models) throw new Error('--placement names the models: give no --models with it');
        if (o.placement) checkFileStrategy(o.strategy);
        const placement = o.placement ? loadPlacementFile(o.placement) : undefined;
        const needed = placement ? placedDevices(placement).size : 0;
        const workers = o.workers ?? (placement ? needed : START_DEFAULTS.workers);
        if (workers < needed)
          throw new Error(`the placement ${o.placement} uses ${needed} devices; --workers ${workers} is too few`);
        const adaptive = adaptivePolicyOf(o, localStrategy({ ...o, placement, workers }));
        await runLocalCluster(
          {
            ...env.servers,
            workers,
            placement,
            demoSeconds: o.demoSeconds,
            demoRate: o.demoRate,
            strategy: o.strategy,
            adaptive,
            models: o.models,
            durationSeconds: o.duration,
            metricsPort: o.metrics ? (o.metricsPort ?? env.metricsPort ?? 0) : undefined,
            recordDir: cwd,
            logLevel,
            log,
            signal: abort.signal,
          },
          {
            info: (line) => console.log(line),
            ready: (r) => {
              for (const line of bannerLines(r)) console.log(line);
            },
            demoShortened: (seconds) =>
              console.log(
                seconds > 0
                  ? `demo: shortened to ${seconds} s to fit --duration ${o.duration}`
                  : `demo: skipped, no time left within --duration ${o.duration}`,
              ),
            progress: progress.update,
            demoDone: (r, interrupted) => {
              progress.done();
              if (interrupted || !r) {
                console.log('demo interrupted: no report for a partial run');
                return;
              }
              printDemoReport(r, o.verbose ?? false);
            },
          },
        );
      } catch (err) {
        fail('start', err);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
