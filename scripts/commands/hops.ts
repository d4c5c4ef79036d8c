// `meshserve hops`: the NATS round trip from here to every registered GPU worker, against the
// round trip to the dispatcher (run it on the dispatcher's host), and the per-request overhead
// that absorbs the difference; `--apply` gives that overhead to the planner, and re-places.
import type { Command } from 'commander';
import { type ActorSystem, describeError } from '../../bus/index.js';
import { setUpProcess } from '../../config/environment.js';
import { TOOL_LOG_LEVEL } from '../../config/tools.js';
import { measureHops, overheadWithHops } from '../../dev/profile/network-hops.js';
import { connectOperator } from '../../ops/connect.js';
import { REFERENCE_OVERHEAD } from '../../planner/latency-model.js';
import { liveDevices } from '../../serving/planner-actor/cluster-state.js';
import type { PlannerActor } from '../../serving/planner-actor/planner-actor.js';
import { RuntimeKeys } from '../../serving/protocol/keys.js';
import { connectTimeoutOption } from './connect-timeout.js';
import { positiveInt } from './option-parsers.js';

interface HopsOptions {
  runs: number;
  dispatcher: string;
  planner: string;
  apply?: boolean;
  json?: boolean;
  connectTimeout: number;
}

export function registerHops(program: Command): void {
  program
    .command('hops')
    .description(
      "measure the NATS round trip from here to every GPU worker (run it on the dispatcher's host) and the per-request overhead that absorbs it; --apply sets it on the planner",
    )
    .option('--runs <n>', 'pings per worker (median)', positiveInt, 50)
    .option('--dispatcher <name>', 'the baseline: an actor on this host, pinged the same way', 'dispatcher')
    .option('--planner <name>', 'actor name of the planner (--apply)', 'planner')
    .option('--apply', "configure the planner's overhead with the result and re-place")
    .option('--json', 'print the result as JSON')
    .addOption(connectTimeoutOption())
    .addHelpText(
      'after',
      `\nThe overhead is the default allowance (${REFERENCE_OVERHEAD * 1000} ms, a cluster on one host) plus the slowest worker's round trip beyond the dispatcher's.\nNATS_URL and REDIS_URL come from the environment. Exit codes: 0 ok, 1 failure, 2 usage.`,
    )
    .action(async (o: HopsOptions) => {
      let system: ActorSystem | undefined;
      try {
        const { env, log } = setUpProcess(TOOL_LOG_LEVEL);
        system = await connectOperator('meshserve-hops', { ...env.bus, timeoutMs: o.connectTimeout, log });
        const workers = (await liveDevices(system, new RuntimeKeys(system.subjects.prefix))).map((d) => d.id);
        if (!workers.length) throw new Error('no GPU workers are registered');
        process.stderr.write(`pinging ${workers.length} workers and ${o.dispatcher}, ${o.runs} times each…\n`);
        const [baseline] = await measureHops(system, [o.dispatcher], { runs: o.runs });
        const hops = await measureHops(system, workers, { runs: o.runs });
        const overhead = overheadWithHops(hops, baseline.roundTripMs);
        if (o.json) console.log(JSON.stringify({ baseline, hops, overhead }, null, 2));
        else {
          console.log(`${o.dispatcher} (baseline): ${baseline.roundTripMs.toFixed(2)} ms`);
          for (const h of hops)
            console.log(
              `${h.worker}: ${h.roundTripMs.toFixed(2)} ms (min ${h.minMs.toFixed(2)}, max ${h.maxMs.toFixed(2)})`,
            );
          console.log(`overhead per request: ${(overhead * 1000).toFixed(1)} ms`);
        }
        if (o.apply) {
          const planner = system.actor<PlannerActor>(o.planner, { timeoutMs: 60_000 });
          await planner.call('configure', { overhead });
          const placed = await planner.call('replace', 'network hops measured');
          process.stderr.write(`planner overhead set; placement v${placed.version} published\n`);
        }
      } catch (err) {
        console.error(`meshserve hops: ${describeError(err).message}`);
        process.exitCode = 1;
        if (!system) process.exit(1);
      } finally {
        await system?.close();
      }
    });
}
