// `npm run bench -- dispatcher`: how many requests/s the dispatcher routes, and the latency it
// adds, with zero-time devices (a 1 ns simulated stage), next to raw NATS request/reply measured
// in the same run. Processes: this one (client), the dispatcher, one GPU worker, the echo
// responder, nats-server — all on this machine.
//   throughput: closed loop, `--window` requests in flight for `--duration-ms`, requests/s;
//   latency: one request at a time for `--lone` requests: p50/p99 round trip, and the added
//            latency = dispatcher path − raw round trip at the same percentile.
// Rounds alternate the two paths; medians over rounds are printed.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connectNats, decode, encode } from '../bus/index.js';
import { Requester } from '../bus/requester.js';
import { startNatsServer } from '../dev/servers.js';
import type { ModelProfile } from '../planner/types.js';
import { bindPlacement } from '../serving/planner-actor/bind.js';
import type { InferReply } from '../serving/protocol/messages.js';
import { RuntimeSubjects } from '../serving/protocol/subjects.js';
import { loneLatency as lone, median, closedLoopThroughput as throughput } from './measure.js';
import { placeDirectly, startActorProcess, startChild, stopChildren } from './processes.js';

const zeroTime: ModelProfile = {
  name: 'zero',
  singleDeviceLatency: 1e-9,
  weightBytes: 1,
  source: 'estimated',
  notes: 'bench: zero-time device',
  configs: { 'pp1-op1': { pp: 1, op: 1, stageLatency: [1e-9], stageWeightBytes: [1] } },
};

type Call = () => Promise<unknown>;

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string', default: '3' },
      window: { type: 'string', default: '128' },
      'duration-ms': { type: 'string', default: '3000' },
      lone: { type: 'string', default: '2000' },
    },
  });
  const rounds = Number(values.rounds);
  const window = Number(values.window);
  const durationMs = Number(values['duration-ms']);
  const loneN = Number(values.lone);
  const nats = await startNatsServer();
  const env = { NATS_URL: nats.url };
  const children: ChildProcess[] = [];
  try {
    children.push(await startActorProcess('dispatcher', 'dispatcher', [{ rateIntervalMs: 0 }], env));
    children.push(await startActorProcess('gpu-0', 'worker', [], env));
    children.push(await startChild(fileURLToPath(new URL('./echo-responder.js', import.meta.url)), [nats.url], env));
    const nc = await connectNats({ url: nats.url, name: 'bench-client' });
    const subjects = new RuntimeSubjects();
    // Place the zero-time model on the one worker: assign (it loads), then publish (the dispatcher switches).
    const placement = bindPlacement(
      { groups: [{ devices: 1, config: { pp: 1, op: 1 }, models: ['zero'] }] },
      ['gpu-0'],
      {
        version: 1,
        strategy: 'bench',
        reason: 'bench',
        params: { stagePenalty: 0, overhead: 0 },
        profiles: [zeroTime],
      },
    );
    await placeDirectly(nc, placement);

    const requester = new Requester(nc);
    const inferSubject = subjects.infer('zero');
    const body = encode({ input: 1 });
    let failures = 0;
    const viaDispatcher: Call = async () => {
      const m = await requester.request(inferSubject, body, undefined, 10_000);
      if ((decode(m.data) as InferReply).status !== 'ok') failures++;
    };
    const raw: Call = () => requester.request('bench.echo', body, undefined, 10_000);
    // Warm-up (JIT, connections).
    await throughput(viaDispatcher, 32, 500);
    await throughput(raw, 32, 500);

    const res = {
      disp: [] as number[],
      raw: [] as number[],
      ratio: [] as number[],
      dp50: [] as number[],
      dp99: [] as number[],
      rp50: [] as number[],
      rp99: [] as number[],
    };
    for (let r = 0; r < rounds; r++) {
      const d = await throughput(viaDispatcher, window, durationMs);
      const b = await throughput(raw, window, durationMs);
      const dl = await lone(viaDispatcher, loneN);
      const bl = await lone(raw, loneN);
      res.disp.push(d);
      res.raw.push(b);
      res.ratio.push(d / b);
      res.dp50.push(dl.p50);
      res.dp99.push(dl.p99);
      res.rp50.push(bl.p50);
      res.rp99.push(bl.p99);
      console.log(
        `round ${r + 1}: dispatcher ${d.toFixed(0)} req/s, raw request/reply ${b.toFixed(0)} req/s; lone p50/p99 dispatcher ${dl.p50.toFixed(3)}/${dl.p99.toFixed(3)} ms, raw ${bl.p50.toFixed(3)}/${bl.p99.toFixed(3)} ms`,
      );
    }
    const stats = decode(
      (await nc.request('ms.actor.dispatcher.stats', encode({ args: [] }), { timeout: 5_000 })).data,
    ) as { value: { totals: unknown } };
    console.log(
      `medians over ${rounds} rounds (window ${window}, ${durationMs} ms each; 2-core machine shared with other work):`,
    );
    console.log(
      `  routed through the dispatcher: ${median(res.disp).toFixed(0)} req/s (raw NATS request/reply to one responder: ${median(res.raw).toFixed(0)} req/s; ratio ${median(res.ratio).toFixed(2)})`,
    );
    console.log(
      `  lone request round trip: dispatcher p50 ${median(res.dp50).toFixed(3)} ms, p99 ${median(res.dp99).toFixed(3)} ms; raw p50 ${median(res.rp50).toFixed(3)} ms, p99 ${median(res.rp99).toFixed(3)} ms`,
    );
    console.log(
      `  added by dispatcher + worker hop: p50 ${(median(res.dp50) - median(res.rp50)).toFixed(3)} ms, p99 ${(median(res.dp99) - median(res.rp99)).toFixed(3)} ms`,
    );
    console.log(`  non-ok replies: ${failures}; dispatcher totals ${JSON.stringify(stats.value.totals)}`);
    await nc.close();
  } finally {
    await stopChildren(children);
    await nats.close();
  }
}
