// What `meshserve start` (`npm start`) does, as a function: a local serving cluster on an embedded
// default. Starts nats-server and redis-server as child processes unless URLs are given, a
// planner, a dispatcher and N simulated GPU workers as supervised processes, places the demo
// model set (the demo's own groups on 8 workers, else the planner's strategy), replays the bursty
// demo workload, then keeps serving until the duration is up or `signal` aborts. It records where
// its servers are (config/cluster-record.ts) so that other commands find them, and serves the
// metrics and the dashboard. The caller gets what to show through `events`; nothing here prints.
import { ActorSystem, type Logger, redactUrl } from '../bus/index.js';
import { removeClusterRecord, writeClusterRecord } from '../config/cluster-record.js';
import { DEFAULT_STRATEGY } from '../config/planner.js';
import { DashboardFeed } from '../ops/dashboard/feed.js';
import { dashboardRoutes } from '../ops/dashboard/http.js';
import { type MetricsServer, serveMetrics } from '../ops/metrics-server.js';
import type { AdaptivePolicy } from '../planner/placement/index.js';
import { buildScenario } from '../planner/scenario.js';
import type { Dispatcher } from '../serving/dispatcher/dispatcher.js';
import { storeProfiles } from '../serving/planner-actor/cluster-state.js';
import type { PlannerActor } from '../serving/planner-actor/planner-actor.js';
import type { RuntimePlacement } from '../serving/protocol/placement.js';
import { demoScenario } from './demo-scenario.js';
import { type LocalCluster, launchCluster } from './local-cluster.js';
import { LOCAL_ONNX_WORKER, serveLocalRepository } from './model-import/local-models.js';
import { plannerConfigOf } from './placement-file.js';
import type { ReplayProgress } from './replay-client.js';
import { replayScenario, type ScenarioReplayResult } from './scenario-replay.js';
import { keepServersAlive } from './server-watch.js';
import { startLocalInfrastructure } from './servers.js';

export interface LocalRunOptions {
  /** Existing servers to use; a child nats-server / redis-server is started for each one absent. */
  natsUrl?: string;
  redisUrl?: string;
  workers: number;
  /** Length of the demo workload (s); 0 = no demo. */
  demoSeconds: number;
  /** Total request rate of the demo (req/s). */
  demoRate: number;
  /** Placement strategy; default the demo's groups on 8 workers, else DEFAULT_STRATEGY. */
  strategy?: string;
  /** The adaptive strategy's policy options (the library's defaults where unset). */
  adaptive?: AdaptivePolicy;
  /** Stop by itself after this many seconds in all; default: run until `signal` aborts. */
  durationSeconds?: number;
  /** Serve the dashboard, /metrics and /healthz here (0 = any free port); default off. */
  metricsPort?: number;
  /** Write the cluster record (.meshserve/cluster.json) in this directory; default none. */
  recordDir?: string;
  /** A model repository to import and serve on ONNX workers, instead of the demo. */
  models?: string;
  /** A placement file to serve (its models and groups, on simulated workers), instead of the demo. */
  placement?: RuntimePlacement;
  /** LOG_LEVEL of the cluster's processes. */
  logLevel: string;
  /** This process's logger. */
  log: Logger;
  signal: AbortSignal;
}

/** The cluster is up and placed: what a user needs to reach it. */
export interface ClusterReady {
  natsUrl: string;
  redisUrl: string;
  /** Whether each server is a child of this process (else given by URL). */
  own: { nats: boolean; redis: boolean };
  placement: RuntimePlacement;
  /** The dashboard's URL (with /metrics beside it), when served. */
  dashboardUrl?: string;
  /** The cluster record written, when one was. */
  recordFile?: string;
}

export interface LocalRunEvents {
  /** A line worth showing (what starts, stopping). */
  info(line: string): void;
  /** The cluster is placed and reachable; the demo (if any) comes next. */
  ready?(r: ClusterReady): void;
  /** The demo was shortened to fit --duration (seconds it gets). */
  demoShortened?(seconds: number): void;
  progress?(p: ReplayProgress): void;
  /** The demo replay ended (also when it was interrupted: `interrupted`). */
  demoDone?(r: ScenarioReplayResult | undefined, interrupted: boolean): void;
}

/** The strategy a local cluster's planner runs: a placement file's groups, and the demo's on 8 workers, are static. */
export function localStrategy(o: Pick<LocalRunOptions, 'strategy' | 'placement' | 'models' | 'workers'>): string {
  return o.strategy ?? (o.placement || (!o.models && o.workers === 8) ? 'static' : DEFAULT_STRATEGY);
}

export async function runLocalCluster(o: LocalRunOptions, events: LocalRunEvents): Promise<void> {
  const began = Date.now();
  const infra = await startLocalInfrastructure({ natsUrl: o.natsUrl, redisUrl: o.redisUrl });
  const stopWatching = keepServersAlive(infra.started, { info: events.info });
  let system: ActorSystem | undefined;
  let cluster: LocalCluster | undefined;
  let metrics: MetricsServer | undefined;
  let feed: DashboardFeed | undefined;
  const urls = { natsUrl: infra.natsUrl, redisUrl: infra.redisUrl };
  let recordFile: string | undefined;
  try {
    // Recorded at once, so that a command run meanwhile finds the cluster starting, not nothing.
    if (o.recordDir !== undefined) recordFile = writeClusterRecord(o.recordDir, urls);
    events.info(
      `servers: nats ${redactUrl(infra.natsUrl)}${o.natsUrl ? '' : ' (child nats-server)'}, redis ${redactUrl(infra.redisUrl)}${o.redisUrl ? '' : ' (child redis-server)'}`,
    );
    system = await ActorSystem.connect({
      natsUrl: infra.natsUrl,
      redisUrl: infra.redisUrl,
      log: o.log,
      name: 'meshserve-start',
      watchDead: false,
    });
    const demoScenarioOf = (seconds: number) =>
      buildScenario(demoScenario(Math.max(1, seconds), o.demoRate), undefined, 'demo scenario');
    let scenario = demoScenarioOf(o.demoSeconds);
    events.info(
      `starting a planner, a dispatcher and ${o.workers} ${o.models ? 'ONNX' : 'simulated'} GPU workers as separate processes…`,
    );
    cluster = await launchCluster(system, {
      natsUrl: infra.natsUrl,
      redisUrl: infra.redisUrl,
      workers: o.workers,
      logLevel: o.logLevel,
      log: o.log,
      // With a repository, `serve` tells the planner its models (a restarted planner places every stored profile).
      planner: {
        adaptive: o.adaptive,
        ...(o.placement
          ? plannerConfigOf(o.placement, o.strategy)
          : {
              strategy: o.strategy ?? DEFAULT_STRATEGY,
              ...(o.models ? {} : { models: scenario.profiles.map((p) => p.name) }),
            }),
      },
      ...(o.models ? { worker: LOCAL_ONNX_WORKER } : {}),
    });
    const planner = system.actor<PlannerActor>('planner', { timeoutMs: 60_000 });
    if (o.metricsPort !== undefined) {
      // Before the first placement, so that its event is among the dashboard's recent events.
      feed = new DashboardFeed(system).start();
      // The dispatcher runs in its own process: each scrape asks it for its metrics over the bus.
      const dispatcher = system.actor<Dispatcher>('dispatcher', { timeoutMs: 2_000 });
      metrics = await serveMetrics(() => dispatcher.call('metrics'), {
        port: o.metricsPort,
        host: '127.0.0.1',
        routes: dashboardRoutes(feed),
      });
      if (o.recordDir !== undefined) writeClusterRecord(o.recordDir, { ...urls, dashboardUrl: `${metrics.url}/` });
    }
    if (o.models) await serveLocalRepository(system, infra.natsUrl, o.models, events.info);
    else if (o.placement) {
      await storeProfiles(system.redis!, o.placement.profiles, system.subjects.prefix);
      await planner.call('replace', 'start: placement file');
    } else {
      await storeProfiles(system.redis!, scenario.profiles, system.subjects.prefix);
      if (!o.strategy && localStrategy(o) === 'static') {
        await planner.call('configure', {
          strategy: 'static',
          groups: scenario.placement.groups.map((g) => ({ config: g.config, models: [...g.models] })),
        });
      }
      await planner.call('replace', 'start');
    }
    const placement = await planner.call('current');
    if (!placement) throw new Error('the planner published no placement');
    events.ready?.({
      ...urls,
      own: { nats: !o.natsUrl, redis: !o.redisUrl },
      placement,
      dashboardUrl: metrics && `${metrics.url}/`,
      recordFile,
    });
    // --duration bounds the whole run: a demo longer than the time left is shortened to fit.
    const leftSeconds = () =>
      o.durationSeconds === undefined ? Infinity : o.durationSeconds - (Date.now() - began) / 1000;
    // A repository's models or a placement file's are served, not the demo's: there is no demo to replay.
    let demoSeconds = o.models || o.placement ? 0 : o.demoSeconds;
    if (demoSeconds > 0 && demoSeconds > leftSeconds()) {
      demoSeconds = Math.max(0, Math.floor(leftSeconds()));
      events.demoShortened?.(demoSeconds);
      if (demoSeconds > 0) scenario = demoScenarioOf(demoSeconds);
    }
    if (demoSeconds > 0 && !o.signal.aborted) {
      events.info(
        `demo: ${scenario.workload.arrival.length} requests over ${demoSeconds} s (Gamma CV 4, power-law over ${scenario.profiles.length} models, SLO scale 5)`,
      );
      const r = await replayScenario(system, scenario, { place: false, onProgress: events.progress, signal: o.signal });
      events.demoDone?.(o.signal.aborted ? undefined : r, o.signal.aborted);
      if (o.signal.aborted) return;
    }
    const left = leftSeconds() * 1000;
    if (left > 0 && !o.signal.aborted) {
      events.info(
        o.durationSeconds === undefined
          ? 'running; Ctrl-C to stop'
          : `running for another ${(left / 1000).toFixed(0)} s`,
      );
      await untilAbortedOr(o.signal, left);
    }
  } finally {
    events.info('stopping: draining actors');
    if (recordFile) removeClusterRecord(recordFile);
    feed?.stop();
    await metrics?.close();
    await cluster?.stop();
    await system?.close();
    stopWatching();
    await infra.close();
    events.info('stopped');
  }
}

function untilAbortedOr(signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = Number.isFinite(ms) ? setTimeout(resolve, ms) : undefined;
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
