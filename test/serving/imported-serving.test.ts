// A model repository served end to end: `meshserve serve <repository>` imports a real PaddleOCR
// model (from a public npm package) and the project's own transformer as an opaque file, places
// them on ONNX worker processes, and requests through NATS get what onnxruntime computes on the
// whole file — also split over both workers as a 2-stage pipeline, and as one stage of two shards
// whose partial products are summed over NATS. Re-serving an unchanged
// repository uploads nothing; a stage file corrupted in the store fails its group with the reason,
// and nothing is placed there.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import { ActorSystem, connectNats, decode, encode } from '../../bus/index.js';
import { type LocalCluster, launchCluster } from '../../dev/local-cluster.js';
import { importFile } from '../../dev/model-import/import-file.js';
import { loadProfilesFile } from '../../dev/planner-files.js';
import { createSession, ort, relativeDifference, runSession, sampleInputs } from '../../modelimport/ort-session.js';
import { ModelStore } from '../../serving/model-store/model-store.js';
import { storeProfiles } from '../../serving/planner-actor/cluster-state.js';
import type { PlannerActor } from '../../serving/planner-actor/planner-actor.js';
import { RuntimeKeys } from '../../serving/protocol/keys.js';
import { InferReply } from '../../serving/protocol/messages.js';
import { RuntimeSubjects } from '../../serving/protocol/subjects.js';
import { float32Values, parseWireTensor, wireTensor } from '../../serving/protocol/tensor.js';
import type { GpuWorker } from '../../serving/worker/gpu-worker.js';
import { runCli } from '../helpers/cli.js';
import { startServers, type TestServers } from '../helpers/servers.js';
import { OCR_CLS, readModel, transformerFile } from '../modelimport/helpers.js';

process.env.LOG_LEVEL ??= 'silent';
const root = fileURLToPath(new URL('../../../', import.meta.url));
const _cli = join(root, 'dist/scripts/meshserve.js');

const MODELS = {
  'ocr-cls': { bytes: readModel(OCR_CLS), input: 'x', shape: [1, 3, 48, 192], output: 'softmax_0.tmp_0' },
  tiny: { bytes: transformerFile('tiny'), input: 'input', shape: [1, 16, 32], output: 'output' },
} as const;
type Name = keyof typeof MODELS;

const run = (args: string[], env: Record<string, string>) => runCli(args, env);

describe('serving imported models', () => {
  let servers: TestServers;
  let system: ActorSystem;
  let cluster: LocalCluster;
  let client: NatsConnection;
  let dir: string;
  let repo: string;
  let env: Record<string, string>;
  const subjects = new RuntimeSubjects();
  const planner = () => system.actor<PlannerActor>('planner', { timeoutMs: 60_000 });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'imported-serving-'));
    repo = join(dir, 'models');
    for (const [name, m] of Object.entries(MODELS)) {
      mkdirSync(join(repo, name), { recursive: true });
      writeFileSync(join(repo, name, 'model.onnx'), m.bytes);
      writeFileSync(
        join(repo, name, 'meshserve.json'),
        JSON.stringify({ slo: 0.5, rate: 2, inputShape: { [m.input]: m.shape }, maxPp: 2 }),
      );
    }
    servers = await startServers({ nats: true, redis: true, jetstream: true });
    env = { NATS_URL: servers.natsUrl, REDIS_URL: servers.redisUrl };
    system = await ActorSystem.connect({
      natsUrl: servers.natsUrl,
      redisUrl: servers.redisUrl,
      name: 'imported-test',
      watchDead: false,
    });
    cluster = await launchCluster(system, {
      natsUrl: servers.natsUrl,
      redisUrl: servers.redisUrl,
      workers: 2,
      maxRestarts: 0,
      logLevel: 'silent',
      log: system.log,
      planner: { rateCheckSec: 0, deviceSettleMs: 0 },
      worker: { executor: 'onnx', ort: { intraOpThreads: 1 }, modelCacheDir: join(dir, 'cache'), retireIdleMs: 300 },
    });
    client = await connectNats({ url: servers.natsUrl, name: 'imported-test-client' });
  });
  after(async () => {
    await client?.close().catch(() => undefined);
    await cluster?.stop();
    await system?.close();
    await servers?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function infer(model: string, input: unknown): Promise<InferReply> {
    const reply = await client.request(subjects.infer(model), encode({ input }), { timeout: 20_000 });
    return InferReply.parse(decode(reply.data));
  }

  /** A request with seeded inputs gets the whole file's output from onnxruntime here. */
  async function expectServed(name: Name, seed: number): Promise<InferReply> {
    const m = MODELS[name];
    const inputs = sampleInputs({ [m.input]: m.shape }, seed);
    const session = await createSession(m.bytes);
    const expected = (await runSession(session, inputs))[m.output];
    await session.release();
    const x = inputs[m.input];
    const reply = await infer(name, wireTensor(x.data as Float32Array, [...x.dims]));
    assert.equal(reply.status, 'ok', `${name}: ${reply.reason}`);
    const out = parseWireTensor(reply.output, { name: m.output, shape: [...expected.dims] });
    const diff = relativeDifference(expected, new ort.Tensor('float32', float32Values(out), out.shape));
    assert.ok(diff <= 1e-4, `${name}: relative difference ${diff}`);
    return reply;
  }

  it('meshserve serve imports the repository, writes each profile.json, places and serves both models', async () => {
    const r = await run(['serve', repo, '--runs', '2', '--warmup', '1'], env);
    assert.equal(r.status, 0, r.stderr);
    // The classifier's one MatMul is too small to split; the transformer's are split 2 and 4 ways.
    const configs = {
      'ocr-cls': ['pp1-op1', 'pp2-op1'],
      tiny: ['pp1-op1', 'pp2-op1', 'pp1-op2', 'pp2-op2', 'pp1-op4', 'pp2-op4'],
    };
    for (const [name, keys] of Object.entries(configs)) {
      assert.match(
        r.stdout,
        new RegExp(
          `^${name}: imported \\(\\d+ stage file\\(s\\) uploaded, \\d+ already stored\\); configs ${keys.join(', ')}; served at ms\\.infer\\.${name} by `,
          'm',
        ),
      );
      const [profile] = loadProfilesFile(join(repo, name, 'profile.json'));
      assert.equal(profile.source, 'measured');
      assert.equal(profile.name, name);
      assert.deepEqual(Object.keys(profile.imported!.stages), keys);
      assert.equal(profile.configs['pp2-op1'].stageLatency.length, 2);
    }
    assert.match(r.stdout, /^call it: meshserve infer ocr-cls {3}\(a float32 tensor \[1,3,48,192\] of 0\.5s; /m);
    assert.match(r.stderr, /ocr-cls: pp2: stages of .* max relative difference/);
    await expectServed('ocr-cls', 1);
    await expectServed('tiny', 2);
  });

  it("meshserve infer with no input sends 0.5s at the import shape (said on stderr) and gets the whole file's output", async () => {
    const m = MODELS['ocr-cls'];
    const x = new ort.Tensor('float32', new Float32Array(3 * 48 * 192).fill(0.5), m.shape);
    const session = await createSession(m.bytes);
    const expected = (await runSession(session, { [m.input]: x }))[m.output];
    await session.release();
    const r = await run(['infer', 'ocr-cls', '--raw'], env);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.equal(
      r.stderr,
      'sending a float32 tensor [1,3,48,192] of 0.5s, the shape ocr-cls is served at; give an input or --tensor for your own\n',
    );
    const reply = JSON.parse(r.stdout);
    assert.equal(reply.status, 'ok');
    const out = parseWireTensor(reply.output, { name: m.output, shape: [...expected.dims] });
    const diff = relativeDifference(expected, new ort.Tensor('float32', float32Values(out), out.shape));
    assert.ok(diff <= 1e-4, `relative difference ${diff}`);
  });

  it('split over both worker processes as a 2-stage pipeline, the replies stay equal', async () => {
    await planner().call('configure', {
      strategy: 'static',
      groups: [{ config: { pp: 2, op: 1 }, models: ['ocr-cls', 'tiny'] }],
    });
    await planner().call('replace', 'test: pp2');
    const processed = async () =>
      Promise.all(['gpu-0', 'gpu-1'].map(async (d) => (await system.actor<GpuWorker>(d).call('status')).processed));
    const before = await processed();
    for (let i = 0; i < 3; i++) {
      await expectServed('ocr-cls', 10 + i);
      await expectServed('tiny', 20 + i);
    }
    const done = await processed();
    assert.deepEqual(
      done.map((n, i) => n - before[i]),
      [6, 6],
      'each request ran once on each stage',
    );
  });

  it('a request with the wrong input shape gets an error naming the input, and the model keeps serving', async () => {
    const reply = await infer('ocr-cls', wireTensor(new Float32Array(3 * 48 * 100), [1, 3, 48, 100]));
    assert.equal(reply.status, 'error');
    assert.match(reply.reason!, /input "x" \(float32 \[1, 3, 48, 192\]\): got shape \[1, 3, 48, 100\]/);
    await expectServed('ocr-cls', 30);
  });

  it('as one stage sharded over both worker processes (op 2, partial products summed over NATS), the replies stay equal', async () => {
    await planner().call('configure', {
      strategy: 'static',
      groups: [{ config: { pp: 1, op: 2 }, models: ['tiny'] }],
    });
    await planner().call('replace', 'test: op2');
    for (let i = 0; i < 3; i++) await expectServed('tiny', 60 + i);
  });

  it('serving the unchanged repository again imports and uploads nothing', async () => {
    const r = await run(['serve', repo, '--strategy', 'alpaserve', '--runs', '2', '--warmup', '1'], env);
    assert.equal(r.status, 0, r.stderr);
    for (const name of Object.keys(MODELS)) assert.match(r.stdout, new RegExp(`^${name}: unchanged; `, 'm'));
    assert.match(r.stderr, /ocr-cls: unchanged \(sha256 [0-9a-f]{12}\): nothing imported or uploaded/);
    await expectServed('tiny', 40);
  });

  it('a stage file corrupted in the store fails its group with the reason, and nothing is placed there', async () => {
    // Another shape of the classifier: stage files no worker has cached yet.
    const store = await ModelStore.open(system.nats);
    const { profile } = await importFile(MODELS['ocr-cls'].bytes, {
      name: 'ocr-cls-wide',
      source: 'test',
      inputShapes: { x: [1, 3, 48, 96] },
      maxPp: 1,
      runs: 1,
      warmup: 1,
      nc: system.nats,
      connect: () => connectNats({ url: servers.natsUrl }),
    });
    const object = profile.imported!.stages['pp1-op1'][0].object!;
    await store.putAs(object, new Uint8Array(1000));
    await storeProfiles(system.redis!, [profile]);
    const before = (await planner().call('current'))!;
    await planner().call('configure', {
      strategy: 'static',
      models: ['ocr-cls-wide', 'ocr-cls'],
      groups: [
        { config: { pp: 1, op: 1 }, models: ['ocr-cls-wide'] },
        { config: { pp: 1, op: 1 }, models: ['ocr-cls'] },
      ],
    });
    const reason = new RegExp(
      `group v\\d+-0 stage 0: model "ocr-cls-wide": stage file ${object} in the model store \\(bucket ms-models\\) is corrupt: its bytes hash to [0-9a-f]{64}`,
    );
    await assert.rejects(planner().call('replace', 'test: corrupt'), (err: Error) => {
      assert.match(err.message, /placement v\d+ not published: gpu-0: /);
      assert.match(err.message, reason);
      return true;
    });
    assert.equal((await planner().call('current'))!.version, before.version, 'the placement in force stays');
    const failure = JSON.parse((await system.redis!.get(new RuntimeKeys().placementError()))!);
    assert.match(failure.error, reason);
    assert.match((await system.actor<GpuWorker>('gpu-0').call('status')).lastError ?? '', reason);
    const wide = await infer('ocr-cls-wide', wireTensor(new Float32Array(3 * 48 * 96), [1, 3, 48, 96]));
    assert.equal(wide.status, 'error', 'not served');
    await expectServed('ocr-cls', 50);
  });
});
