// What `meshserve start` (`npm start`) does, as a function: a local serving cluster on an embedded
// default. Starts nats-server and redis-server as child processes unless URLs are given, a
// planner, a dispatcher and N simulated GPU workers as supervised processes, places the demo
// model set (the demo's own groups on 8 workers, else the planner's strategy), replays the bursty
// demo workload, then keeps serving until the duration is up or `signal` aborts. The caller gets
// what to show through `events`; nothing here prints.
import { ActorSystem, type Logger, redactUrl } from '../bus/index.js';
import { DEFAULT_STRATEGY } from '../config/planner.js';
import { type MetricsServer, serveMetrics } from '../ops/metrics-server.js';
import { buildScenario } from '../planner/scenario.js';
import type { Dispatcher } from '../serving/dispatcher/dispatcher.js';
import { storeProfiles } from '../serving/planner-actor/cluster-state.js';
import type { PlannerActor } from '../serving/planner-actor/planner-actor.js';
import type { RuntimePlacement } from '../serving/protocol/placement.js';
import { RuntimeSubjects } from '../serving/protocol/subjects.js';
import { demoScenario } from './demo-scenario.js';
import { type LocalCluster, launchCluster } from './local-cluster.js';
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
  /** Stop by itself after this many seconds in all; default: run until `signal` aborts. */
  durationSeconds?: number;
  /** Serve the dispatcher's Prometheus /metrics and /healthz here (0 = any free port); default off. */
  metricsPort?: number;
  /** LOG_LEVEL of the cluster's processes. */
  logLevel: string;
  /** This process's logger. */
  log: Logger;
  signal: AbortSignal;
}

export interface LocalRunEvents {
  /** A line worth showing (servers, what starts, where to send requests, stopping). */
  info(line: string): void;
  progress?(p: ReplayProgress): void;
  /** The demo replay ended (also when it was interrupted: `interrupted`). */
  demoDone?(r: ScenarioReplayResult | undefined, interrupted: boolean): void;
}

export async function runLocalCluster(o: LocalRunOptions, events: LocalRunEvents): Promise<void> {
  const began = Date.now();
  const infra = await startLocalInfrastructure({ natsUrl: o.natsUrl, redisUrl: o.redisUrl });
  const stopWatching = keepServersAlive(infra.started, { info: events.info });
  let system: ActorSystem | undefined;
  let cluster: LocalCluster | undefined;
  let metrics: MetricsServer | undefined;
  try {
    events.info(`nats:  ${redactUrl(infra.natsUrl)}${o.natsUrl ? '' : ' (child nats-server)'}`);
    events.info(`redis: ${redactUrl(infra.redisUrl)}${o.redisUrl ? '' : ' (child redis-server)'}`);
    system = await ActorSystem.connect({
      natsUrl: infra.natsUrl,
      redisUrl: infra.redisUrl,
      log: o.log,
      name: 'meshserve-start',
      watchDead: false,
    });
    const scenario = buildScenario(demoScenario(Math.max(1, o.demoSeconds), o.demoRate), undefined, 'demo scenario');
    events.info(`starting a planner, a dispatcher and ${o.workers} simulated GPU workers as separate processes…`);
    cluster = await launchCluster(system, {
      natsUrl: infra.natsUrl,
      redisUrl: infra.redisUrl,
      workers: o.workers,
      logLevel: o.logLevel,
      log: o.log,
      planner: { strategy: o.strategy ?? DEFAULT_STRATEGY, models: scenario.profiles.map((p) => p.name) },
    });
    const planner = system.actor<PlannerActor>('planner', { timeoutMs: 60_000 });
    await storeProfiles(system.redis!, scenario.profiles, system.subjects.prefix);
    if (!o.strategy && o.workers === 8) {
      await planner.call('configure', {
        strategy: 'static',
        groups: scenario.placement.groups.map((g) => ({ config: g.config, models: [...g.models] })),
      });
    }
    await planner.call('replace', 'start');
    if (o.metricsPort !== undefined) {
      // The dispatcher runs in its own process: each scrape asks it for its metrics over the bus.
      const dispatcher = system.actor<Dispatcher>('dispatcher', { timeoutMs: 2_000 });
      metrics = await serveMetrics(() => dispatcher.call('metrics'), { port: o.metricsPort, host: '127.0.0.1' });
      events.info(`metrics: ${metrics.url}/metrics (Prometheus text), ${metrics.url}/healthz`);
    }
    if (o.demoSeconds > 0 && !o.signal.aborted) {
      events.info(
        `demo: ${scenario.workload.arrival.length} requests over ${o.demoSeconds} s (Gamma CV 4, power-law over ${scenario.profiles.length} models, SLO scale 5)`,
      );
      const r = await replayScenario(system, scenario, { place: false, onProgress: events.progress, signal: o.signal });
      events.demoDone?.(o.signal.aborted ? undefined : r, o.signal.aborted);
      if (o.signal.aborted) return;
    }
    const served = (await planner.call('current'))?.profiles.map((m) => m.name) ?? [];
    events.info(`serving ${served.length} models on ${redactUrl(infra.natsUrl)}, e.g.:`);
    if (served[0])
      events.info(
        `  nats req --server ${redactUrl(infra.natsUrl)} -H 'content-type:application/json' ${new RuntimeSubjects(system.subjects).infer(served[0])} '{"id":"1","input":"hi","slo":1}'`,
      );
    const left = o.durationSeconds === undefined ? Infinity : o.durationSeconds * 1000 - (Date.now() - began);
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
    await metrics?.close();
    await cluster?.stop();
    await system?.close();
    stopWatching();
    await infra.close();
  }
}

/** One line per group, for showing a placement. */
export function describePlacement(p: RuntimePlacement): string {
  return `placement v${p.version} (${p.strategy}): ${p.groups.map((g) => `${g.id} pp${g.config.pp}×op${g.config.op} [${g.devices.flat().join(',')}] ${g.models.length} models`).join('; ')}`;
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
