// `meshserve start` (`npm start`): a local serving cluster on an embedded default. Starts
// nats-server and redis-server as child processes unless NATS_URL / REDIS_URL are set, a planner,
// a dispatcher and N simulated GPU workers as supervised processes, places a default model set,
// replays a bursty demo workload with a live progress line, prints the SLO attainment report
// (the format of `meshserve simulate`), then keeps serving until Ctrl-C (or --duration).
import type { Command } from 'commander';
import { ActorSystem } from '../../bus/index.js';
import { startLocalInfrastructure } from '../../bus/testing/local-servers.js';
import { buildScenario } from '../../planner/scenario.js';
import { demoScenario } from '../../actors/demo-scenario.js';
import { launchCluster } from '../../actors/local-cluster.js';
import { storeProfiles, type PlannerActor } from '../../actors/planner-actor.js';
import { replayScenario } from '../../actors/scenario-replay.js';
import { DEFAULT_STRATEGY } from '../../actors/placement-strategies.js';
import { RuntimeSubjects } from '../../actors/protocol.js';
import { printFidelity, printHuman } from './report.js';
import { progressPrinter } from './progress.js';
import { nonNegativeNumber, positiveInt, positiveNumber } from './serving-options.js';

/** Ctrl-C during the demo: skip the report of a partial run and stop. */
class Interrupted extends Error {}

interface StartOptions {
  duration?: number;
  workers: number;
  demoSeconds: number;
  demoRate: number;
  strategy?: string;
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start a local serving cluster (nats-server and redis-server as child processes unless NATS_URL/REDIS_URL are set), replay a demo workload, keep serving')
    .option('--duration <seconds>', 'stop by itself after this many seconds in all (default: run until Ctrl-C)', positiveNumber)
    .option('--workers <n>', 'simulated GPU workers', positiveInt, 8)
    .option('--demo-seconds <s>', 'length of the demo workload (0 = no demo)', nonNegativeNumber, 30)
    .option('--demo-rate <req/s>', 'total request rate of the demo workload', positiveNumber, 20)
    .option('--strategy <name>', `placement strategy (default: the demo's groups on 8 workers, else ${DEFAULT_STRATEGY})`)
    .action(async (o: StartOptions) => {
      process.env.LOG_LEVEL ??= 'warn';
      const began = Date.now();
      let infra;
      try {
        infra = await startLocalInfrastructure({ natsUrl: process.env.NATS_URL, redisUrl: process.env.REDIS_URL });
      } catch (err) {
        console.error(`start failed: ${(err as Error).message}`);
        process.exitCode = 1;
        return;
      }
      let system: ActorSystem | undefined;
      let cluster: Awaited<ReturnType<typeof launchCluster>> | undefined;
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        console.log(`nats:  ${infra.natsUrl}${process.env.NATS_URL ? '' : ' (child nats-server)'}`);
        console.log(`redis: ${infra.redisUrl}${process.env.REDIS_URL ? '' : ' (child redis-server)'}`);
        system = await ActorSystem.connect({ natsUrl: infra.natsUrl, redisUrl: infra.redisUrl, name: 'meshserve-start', watchDead: false });
        const scenario = buildScenario(demoScenario(Math.max(1, o.demoSeconds), o.demoRate), '.', 'demo scenario');
        const useDemoGroups = !o.strategy && o.workers === 8;
        console.log(`starting a planner, a dispatcher and ${o.workers} simulated GPU workers as separate processes…`);
        cluster = await launchCluster(system, {
          natsUrl: infra.natsUrl, redisUrl: infra.redisUrl, workers: o.workers,
          planner: { strategy: o.strategy ?? DEFAULT_STRATEGY, models: scenario.profiles.map((p) => p.name) },
        });
        const planner = system.actor<PlannerActor>('planner', { timeoutMs: 60_000 });
        await storeProfiles(system.redis!, scenario.profiles, system.subjects.prefix);
        if (useDemoGroups) {
          await planner.call('configure', { strategy: 'static', groups: scenario.placement.groups.map((g) => ({ config: g.config, models: [...g.models] })) });
        }
        await planner.call('replace', 'start');
        if (o.demoSeconds > 0 && !abort.signal.aborted) {
          console.log(`demo: ${scenario.workload.arrival.length} requests over ${o.demoSeconds} s (Gamma CV 4, power-law over ${scenario.profiles.length} models, SLO scale 5)`);
          const progress = progressPrinter();
          const r = await replayScenario(system, scenario, { place: false, onProgress: progress.update, signal: abort.signal });
          progress.done();
          if (abort.signal.aborted) throw new Interrupted();
          const p = r.placement;
          console.log(`placement v${p.version} (${p.strategy}): ${p.groups.map((g) => `${g.id} pp${g.config.pp}×op${g.config.op} [${g.devices.flat().join(',')}] ${g.models.length} models`).join('; ')}`);
          printHuman(r.liveSummary, 'earliest-finish');
          printFidelity(r.fidelity);
        }
        const served = (await planner.call('current'))?.profiles.map((m) => m.name) ?? [];
        const subjects = new RuntimeSubjects(system.subjects);
        console.log(`serving ${served.length} models on ${infra.natsUrl}, e.g.:`);
        if (served[0]) console.log(`  nats req --server ${infra.natsUrl} -H 'content-type:application/json' ${subjects.infer(served[0])} '{"id":"1","input":"hi","slo":1}'`);
        if (!abort.signal.aborted) {
          const left = o.duration === undefined ? Infinity : o.duration * 1000 - (Date.now() - began);
          if (left > 0) {
            console.log(o.duration === undefined ? 'running; Ctrl-C to stop' : `running for another ${(left / 1000).toFixed(0)} s`);
            await new Promise<void>((resolve) => {
              const timer = Number.isFinite(left) ? setTimeout(resolve, left) : undefined;
              abort.signal.addEventListener('abort', () => {
                clearTimeout(timer);
                resolve();
              });
            });
          }
        }
        console.log('stopping: draining actors');
      } catch (err) {
        if (err instanceof Interrupted) console.log('demo interrupted; stopping: draining actors');
        else {
          console.error(`start failed: ${(err as Error).message}`);
          process.exitCode = 1;
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await cluster?.stop();
        await system?.close();
        await infra.close();
      }
    });
}
