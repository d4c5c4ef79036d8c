// `meshserve infer` against a private cluster whose ONNX worker serves the generated tiny
// transformer: with no input it sends 0.5s at the shape the model is served at (read from its
// profile in Redis) and gets what onnxruntime computes; a large output is abridged unless --raw;
// --tensor sends a shape of one's own (a wrong one gets the worker's reason, exit 1); a bad
// --tensor is a usage error (exit 2) before anything is sent.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_SEED, modelIO, transformerSpec } from '../../modelgen/transformer.js';
import { abridgeReply, filledInput } from '../../ops/infer-client.js';
import type { ModelProfile } from '../../planner/types.js';
import { bannerLines } from '../../scripts/commands/start-report.js';
import type { RuntimePlacement } from '../../serving/protocol/placement.js';
import { servedInputs } from '../../serving/protocol/served-inputs.js';
import { float32Values, parseWireTensor, wireTensor } from '../../serving/protocol/tensor.js';
import { runCli } from '../helpers/cli.js';
import { loadFullModel } from '../modelgen/helpers.js';
import { startCluster, type TestCluster, testProfile } from '../serving/helpers.js';

const spec = transformerSpec('tiny');
const tinyProfile = { ...testProfile('tiny', 0.02, 0.001), onnx: { size: 'tiny', seed: DEFAULT_SEED } };

describe('meshserve infer on a model served by an ONNX worker', () => {
  let c: TestCluster;
  let env: Record<string, string>;
  let expected: Float32Array;

  before(async () => {
    c = await startCluster({
      workers: 1,
      profiles: [tinyProfile],
      worker: { executor: 'onnx', ort: { intraOpThreads: 1 } },
      planner: { strategy: 'static', groups: [{ config: { pp: 1, op: 1 }, models: ['tiny'] }] },
    });
    await c.planner.call('replace', 'test');
    env = { NATS_URL: c.servers.natsUrl, REDIS_URL: c.servers.redisUrl };
    const direct = await loadFullModel(spec);
    try {
      expected = float32Values(await direct.run(wireTensor(new Float32Array(16 * 32).fill(0.5), [1, 16, 32])));
    } finally {
      await direct.unload();
    }
  });
  after(async () => {
    await c?.close();
  });

  it('with no input: 0.5s at the served shape, said on stderr; the output abridged, or whole with --raw', async () => {
    const r = await runCli(['infer', 'tiny'], env);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.equal(
      r.stderr,
      'sending a float32 tensor [1,16,32] of 0.5s, the shape tiny is served at; give an input or --tensor for your own\n',
    );
    const reply = JSON.parse(r.stdout);
    assert.equal(reply.status, 'ok');
    assert.equal(reply.output.dtype, 'float32');
    assert.deepEqual(reply.output.shape, [1, spec.seq, spec.outputDim]);
    const round = (v: number) => Number(v.toPrecision(4));
    const first = [...expected.subarray(0, 4)].map(round).join(', ');
    const range = `${round(Math.min(...expected))}, ${round(Math.max(...expected))}`;
    assert.equal(reply.output.data, `256 float32 values in [${range}], first [${first}] (--raw for all)`);
    assert.doesNotMatch(r.stdout, /[A-Za-z0-9+/]{64}/, 'no base64 printed');

    const raw = await runCli(['infer', 'tiny', '--raw'], env);
    assert.equal(raw.status, 0, raw.stderr);
    const out = parseWireTensor(JSON.parse(raw.stdout).output, modelIO(spec).output);
    const values = float32Values(out);
    assert.equal(values.length, 256);
    for (let i = 0; i < values.length; i++)
      assert.ok(Math.abs(values[i] - expected[i]) <= 1e-4 * Math.max(1, Math.abs(expected[i])), `value ${i}`);
  });

  it("--tensor at the served shape answers ok; a wrong shape gets the worker's reason and exit 1", async () => {
    const ok = await runCli(['infer', 'tiny', '--tensor', '1,16,32'], env);
    assert.equal(ok.status, 0, ok.stderr + ok.stdout);
    assert.equal(ok.stderr, '', "nothing said: the shape is the user's");
    assert.equal(JSON.parse(ok.stdout).status, 'ok');
    const wrong = await runCli(['infer', 'tiny', '--tensor', '1,16,31'], env);
    assert.equal(wrong.status, 1, wrong.stderr);
    const reply = JSON.parse(wrong.stdout);
    assert.equal(reply.status, 'error');
    assert.match(reply.reason, /input "input" \(float32 \[batch, 16, 32\]\): got shape \[1, 16, 31\]/);
  });

  it('with --count and no input, every request of the load carries the served shape', async () => {
    const r = await runCli(['infer', 'tiny', '--count', '4', '--rate', '20'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^tiny: 4 requests in [\d.]+ s .*: 4 ok, 0 rejected, 0 errors;/);
  });

  it('a bad --tensor, or an input beside --tensor, is a usage error: exit 2, nothing sent', async () => {
    const cases: [string[], RegExp][] = [
      [['--tensor', '1,16,x'], /"1,16,x" is not a shape such as 1,3,64,320, or <input>=<shape>/],
      [['--tensor', '1,0,32'], /"1,0,32": every dimension must be ≥ 1/],
      [['--tensor', '1,16,32', '--tensor', 'mask=1,16'], /with several --tensor, name each input/],
      [['--tensor', 'x=1,16', '--tensor', 'x=1,16'], /--tensor x is given twice/],
      [['--tensor', '100000,100000,100'], /has 1000000000000 values, more than 268435456/],
      [['{"dtype":"float32"}', '--tensor', '1,16,32'], /give an input or --tensor, not both/],
    ];
    const before = (await c.dispatcher.call('stats')).totals.requests;
    for (const [args, reason] of cases) {
      const r = await runCli(['infer', 'tiny', ...args], env);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^meshserve infer: /);
      assert.match(r.stderr, reason);
      assert.equal(r.stdout, '');
    }
    assert.equal((await c.dispatcher.call('stats')).totals.requests, before, 'nothing sent');
  });
});

describe('servedInputs: what a model is served at, from its profile', () => {
  it('an imported model: its import shapes; a generated one: [1, seq, inputDim]; a simulated one: none', () => {
    const imported = {
      sha256: '0',
      inputShapes: { x: [1, 3, 64, 320], mask: [1, 64] },
      maxPp: 1,
      maxOp: 1,
      stages: {},
    };
    assert.deepEqual(servedInputs({ imported }), [
      { name: 'x', shape: [1, 3, 64, 320] },
      { name: 'mask', shape: [1, 64] },
    ]);
    assert.deepEqual(servedInputs({ onnx: { size: 'small', seed: 1 } }), [{ name: 'input', shape: [1, 32, 64] }]);
    assert.equal(servedInputs(testProfile('sim', 0.01)), undefined);
  });
});

describe('the start banner', () => {
  it('suggests commands that work: meshserve infer as is, the Python example with --tensor for an ONNX model', () => {
    const banner = (profile: ModelProfile) =>
      bannerLines({
        natsUrl: 'nats://127.0.0.1:4222',
        redisUrl: 'redis://127.0.0.1:6379',
        own: { nats: true, redis: true },
        recordFile: '/tmp/x/.meshserve/cluster.json',
        placement: {
          version: 1,
          createdAt: '2026-12-01T10:00:00.000Z',
          strategy: 'alpaserve',
          reason: 'test',
          params: { stagePenalty: 0, overhead: 0 },
          groups: [{ id: 'v1-0', config: { pp: 1, op: 1 }, models: [profile.name], devices: [['gpu-0']] }],
          profiles: [profile as RuntimePlacement['profiles'][number]],
        },
      }).join('\n');
    const onnx = banner(tinyProfile);
    assert.match(onnx, /\n {4}npx meshserve infer tiny\n/);
    assert.match(onnx, /\n {4}python3 examples\/python_client\.py --tensor 1,16,32 tiny\n/);
    assert.match(banner(testProfile('m', 0.01)), /\n {4}python3 examples\/python_client\.py m\n/);
  });
});

describe('the tensors infer sends and prints', () => {
  it('one input travels as its tensor, several as an object by name; all values 0.5', () => {
    const one = filledInput([{ shape: [1, 2, 3] }]) as ReturnType<typeof wireTensor>;
    assert.deepEqual(one.shape, [1, 2, 3]);
    assert.deepEqual([...float32Values(one)], new Array(6).fill(0.5));
    const two = filledInput([
      { name: 'x', shape: [1, 4] },
      { name: 'mask', shape: [1, 2] },
    ]) as Record<string, ReturnType<typeof wireTensor>>;
    assert.deepEqual(Object.keys(two), ['x', 'mask']);
    assert.deepEqual([...float32Values(two.mask)], [0.5, 0.5]);
  });

  it('abridges an output of more than 16 values (one, or each of several by name), leaves the rest as sent', () => {
    const big = wireTensor(
      Float32Array.from({ length: 20 }, (_, i) => (i - 3) / 7),
      [4, 5],
    );
    const small = { dtype: 'float32', shape: [2], data: [0.5, 1.5] };
    const base64 = Buffer.from(big.data).toString('base64'); // as a JSON reply carries it
    const summary = '20 float32 values in [-0.4286, 2.286], first [-0.4286, -0.2857, -0.1429, 0] (--raw for all)';
    assert.deepEqual(abridgeReply({ status: 'ok', output: { ...big, data: base64 } }), {
      status: 'ok',
      output: { dtype: 'float32', shape: [4, 5], data: summary },
    });
    assert.deepEqual(abridgeReply({ status: 'ok', output: { a: { ...big, data: base64 }, b: small } }), {
      status: 'ok',
      output: { a: { dtype: 'float32', shape: [4, 5], data: summary }, b: small },
    });
    const error = { status: 'error', reason: 'no' };
    assert.equal(abridgeReply(error), error);
    const echoed = { status: 'ok', output: { tokens: [1, 2, 3] } };
    assert.deepEqual(abridgeReply(echoed), echoed);
  });
});
