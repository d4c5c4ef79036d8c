// `npm run bench -- serve-onnx [--size small] [--rounds 3] [--duration-ms 3000] [--window 4] [--lone
// 200] [--threads 1]` Throughput and latency of a real generated model served through NATS +
// dispatcher + ONNX GPU worker processes, next to direct onnxruntime on the same model in this
// process, same run. Processes: this one (client, and the direct runs), nats-server, the dispatcher,
// five ONNX workers: one serves the model whole (pp1-op1), two as a 2-stage pipeline (pp2-op1), two as
// a 2-way sharded stage (pp1-op2), each under its own model name.
//   throughput: closed loop, `--window` requests in flight for `--duration-ms` (direct: one
//               run after another, onnxruntime runs on this thread);
//   latency:    one request at a time, `--lone` of them: p50/p99. Rounds alternate direct and served;
//   medians over rounds are printed, with the ratio served / direct (the serving overhead ratio).
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { connectNats, decode, encode } from '../bus/index.js';
import { Requester } from '../bus/requester.js';
import { startNatsServer } from '../dev/servers.js';
import { uniformFloats } from '../modelgen/seeded-random.js';
import { modelIO, transformerSpec } from '../modelgen/transformer.js';
import { buildFullModel } from '../modelgen/transformer-graphs.js';
import { configKey, type ModelProfile, type ParallelConfig } from '../planner/types.js';
import { synthesiseConfigs } from '../planner/zoo.js';
import { OnnxGraphRunner } from '../serving/executors/onnx-graphs.js';
import { bindPlacement } from '../serving/planner-actor/bind.js';
import type { InferReply } from '../serving/protocol/messages.js';
import { RuntimeSubjects } from '../serving/protocol/subjects.js';
import { float32Values, parseWireTensor, wireTensor } from '../serving/protocol/tensor.js';
import { placeDirectly, startActorProcess, stopChildren } from './processes.js';
import { compareServedWithDirect } from './served-vs-direct.js';

const SERVED: ReadonlyArray<ParallelConfig> = [
  { pp: 1, op: 1 },
  { pp: 2, op: 1 },
  { pp: 1, op: 2 },
];

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: 'string', default: 'small' },
      rounds: { type: 'string', default: '3' },
      'duration-ms': { type: 'string', default: '3000' },
      window: { type: 'string', default: '4' },
      lone: { type: 'string', default: '200' },
      threads: { type: 'string', default: '1' },
    },
  });
  const spec = transformerSpec(values.size!);
  const [rounds, durationMs, window, loneN, threads] = (
    ['rounds', 'duration-ms', 'window', 'lone', 'threads'] as const
  ).map((k) => {
    const n = Number(values[k]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${k} needs a positive integer`);
    return n;
  });
  const ort = { intraOpThreads: threads };
  const name = (c: ParallelConfig) => `${spec.name}-${configKey(c)}`;
  // Only the dispatcher's routing estimate reads these latencies (no SLO is sent, nothing is rejected).
  const profiles: ModelProfile[] = SERVED.map((c) => ({
    name: name(c),
    singleDeviceLatency: 0.01,
    weightBytes: 1,
    configs: synthesiseConfigs(0.01, 1),
    source: 'estimated',
    notes: 'bench: routing estimate only',
    onnx: { size: spec.size, seed: spec.seed },
  }));
  const devices = SERVED.flatMap((c, g) => Array.from({ length: c.pp * c.op }, (_, i) => `gpu-${g}-${i}`));

  const nats = await startNatsServer();
  const env = { NATS_URL: nats.url };
  const children: ChildProcess[] = [];
  const direct = new OnnxGraphRunner(ort);
  try {
    children.push(await startActorProcess('dispatcher', 'dispatcher', [{ rateIntervalMs: 0 }], env));
    for (const d of devices)
      children.push(await startActorProcess(d, 'worker', [{ executor: 'onnx', ort, retireIdleMs: 60_000 }], env));
    const nc = await connectNats({ url: nats.url, name: 'bench-client' });
    const placement = bindPlacement(
      { groups: SERVED.map((c) => ({ devices: c.pp * c.op, config: c, models: [name(c)] })) },
      devices,
      {
        version: 1,
        strategy: 'bench',
        reason: 'bench',
        params: { stagePenalty: 0, overhead: 0 },
        profiles,
      },
    );
    await placeDirectly(nc, placement);
    await direct.load({ graphs: [{ name: spec.name, ...modelIO(spec), bytes: buildFullModel(spec).bytes }] });

    const input = wireTensor(uniformFloats(spec.seed, 'bench-input', spec.seq * spec.inputDim, 1), [
      1,
      spec.seq,
      spec.inputDim,
    ]);
    const expected = float32Values(await direct.run(input));
    const requester = new Requester(nc);
    const subjects = new RuntimeSubjects();
    const body = encode({ input });
    let failures = 0;
    const served = (c: ParallelConfig) => {
      const subject = subjects.infer(name(c));
      return async (): Promise<InferReply> => {
        const reply = decode((await requester.request(subject, body, undefined, 30_000)).data) as InferReply;
        if (reply.status !== 'ok') failures++;
        return reply;
      };
    };
    const runDirect = () => direct.run(input);

    // Each served path returns what onnxruntime computes on the whole model (else nothing is measured).
    for (const c of SERVED) {
      const reply = await served(c)();
      if (reply.status !== 'ok') throw new Error(`${name(c)}: ${reply.reason}`);
      const got = float32Values(parseWireTensor(reply.output, modelIO(spec).output));
      const maxDiff = got.reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i])), 0);
      console.log(`${name(c)}: output matches direct onnxruntime (max abs diff ${maxDiff.toExponential(1)})`);
      if (maxDiff > 1e-3) throw new Error(`${name(c)} differs from direct onnxruntime by ${maxDiff}`);
    }
    await compareServedWithDirect(
      runDirect,
      SERVED.map((c) => ({
        key: configKey(c),
        label: `served ${configKey(c)} (dispatcher + ${c.pp * c.op} worker process${c.pp * c.op > 1 ? 'es' : ''})`,
        call: served(c),
      })),
      {
        rounds,
        durationMs,
        window,
        lone: loneN,
        title: `${spec.name}, batch 1, ${threads} onnxruntime thread(s) per session`,
      },
    );
    console.log(`\nnon-ok replies: ${failures}`);
    await nc.close();
  } finally {
    await direct.unload();
    await stopChildren(children);
    await nats.close();
  }
}
