// Real model execution end to end: a client sends a tensor on ms.infer.<model>, the dispatcher
// routes it to ONNX GPU workers serving the generated tiny transformer as a 2-stage pipeline, a
// 2-way sharded stage (partial sums all-reduced over NATS between segments) and pp2 × op2, and
// the reply equals direct onnxruntime on the whole model. Bad inputs are answered, not crashed on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_SEED, modelIO, transformerSpec } from '../../modelgen/transformer.js';
import type { OnnxGraphRunner } from '../../serving/executors/onnx-graphs.js';
import type { InferReply } from '../../serving/protocol/messages.js';
import { float32Values, parseWireTensor, type WireTensor, wireTensor } from '../../serving/protocol/tensor.js';
import { compare, loadFullModel, randomInput } from '../modelgen/helpers.js';
import { startCluster, type TestCluster, testProfile } from './helpers.js';

const spec = transformerSpec('tiny');
const TOLERANCE = 1e-4; // relative to the output's largest magnitude, as in the in-process equivalence tests
const MODELS = { pp2: 'tiny-pp2', op2: 'tiny-op2', pp2op2: 'tiny-pp2op2' } as const;

/** A profile that names the generated tiny transformer (its latencies only steer the dispatcher). */
function tinyProfile(name: string) {
  return { ...testProfile(name, 0.02, 0.001), onnx: { size: 'tiny', seed: DEFAULT_SEED } };
}

describe('serving runtime: real ONNX models', () => {
  let c: TestCluster;
  let direct: OnnxGraphRunner;

  before(async () => {
    c = await startCluster({
      workers: 8,
      profiles: Object.values(MODELS).map(tinyProfile),
      worker: { executor: 'onnx', ort: { intraOpThreads: 1 } },
      planner: {
        strategy: 'static',
        groups: [
          { config: { pp: 2, op: 1 }, models: [MODELS.pp2] },
          { config: { pp: 1, op: 2 }, models: [MODELS.op2] },
          { config: { pp: 2, op: 2 }, models: [MODELS.pp2op2] },
        ],
      },
    });
    await c.planner.call('replace', 'test');
    direct = await loadFullModel(spec);
  });
  after(async () => {
    await direct?.unload();
    await c?.close();
  });

  async function expectSameAsDirect(model: string, input: WireTensor): Promise<InferReply> {
    const reply = await c.infer(model, { input });
    assert.equal(reply.status, 'ok', reply.reason);
    const output = parseWireTensor(reply.output, modelIO(spec).output);
    assert.deepEqual(output.shape, [input.shape[0], spec.seq, spec.outputDim]);
    const expected = float32Values(await direct.run(input));
    const { maxAbsDiff, maxAbs } = compare(expected, float32Values(output));
    assert.ok(maxAbs > 0.1, 'a real output, not zeros');
    assert.ok(maxAbsDiff <= TOLERANCE * Math.max(1, maxAbs), `${model}: max abs diff ${maxAbsDiff}`);
    return reply;
  }

  const processed = (from: number, to: number) => c.workers.slice(from, to).map((w) => w.status().processed);

  it('a 2-stage pipeline returns what onnxruntime computes on the whole model', async () => {
    const before = processed(0, 2);
    const reply = await expectSameAsDirect(MODELS.pp2, randomInput(spec, 1, 11));
    assert.equal(reply.group, 'v1-0');
    assert.deepEqual(
      processed(0, 2).map((n, i) => n - before[i]),
      [1, 1],
      'each stage ran once',
    );
  });

  it('a 2-way sharded stage sums its partials over NATS and returns the same output', async () => {
    const before = processed(2, 4);
    await expectSameAsDirect(MODELS.op2, randomInput(spec, 1, 12));
    assert.deepEqual(
      processed(2, 4).map((n, i) => n - before[i]),
      [1, 1],
      'both shards ran it',
    );
  });

  it('pp2 × op2 (four workers) returns the same output, for a batch of 3 too', async () => {
    await expectSameAsDirect(MODELS.pp2op2, randomInput(spec, 1, 13));
    await expectSameAsDirect(MODELS.pp2op2, randomInput(spec, 3, 14));
  });

  it('concurrent requests to sharded groups each get their own correct output', async () => {
    const inputs = Array.from({ length: 12 }, (_, i) => randomInput(spec, 1 + (i % 2), 100 + i));
    await Promise.all(inputs.map((input, i) => expectSameAsDirect(i % 2 ? MODELS.op2 : MODELS.pp2op2, input)));
  });

  it('a JSON client sends the tensor as base64 (or numbers) and gets the output back as base64', async () => {
    const input = randomInput(spec, 1, 41);
    const expected = float32Values(await direct.run(input));
    const base64 = Buffer.from(input.data.buffer, input.data.byteOffset, input.data.byteLength).toString('base64');
    const forms = { base64, numbers: Array.from(float32Values(input)) };
    for (const model of Object.values(MODELS)) {
      for (const [form, data] of Object.entries(forms)) {
        const body = JSON.stringify({
          id: `json-${model}-${form}`,
          input: { dtype: 'float32', shape: input.shape, data },
        });
        const reply = await c.infer(model, body, { json: true });
        assert.equal(reply.status, 'ok', `${model}, ${form}: ${reply.reason}`);
        const out = reply.output as { dtype: string; shape: number[]; data: unknown };
        assert.equal(typeof out.data, 'string', 'bytes come back as a base64 string');
        const got = float32Values(parseWireTensor(out, modelIO(spec).output));
        const { maxAbsDiff, maxAbs } = compare(expected, got);
        assert.ok(
          maxAbs > 0.1 && maxAbsDiff <= TOLERANCE * Math.max(1, maxAbs),
          `${model}, ${form}: max abs diff ${maxAbsDiff}`,
        );
      }
    }
  });

  it('bad inputs get status error with a clear reason, and every group keeps serving', async () => {
    const good = randomInput(spec, 1, 21);
    const nan = Float32Array.from(float32Values(good));
    nan[5] = Number.NaN;
    const cases: Array<[string, unknown, RegExp]> = [
      [
        'wrong shape',
        wireTensor(new Float32Array(spec.seq * (spec.inputDim + 1)), [1, spec.seq, spec.inputDim + 1]),
        /input "input" \(float32 \[batch, 16, 32\]\): got shape \[1, 16, 33\]/,
      ],
      ['wrong dtype', { ...good, dtype: 'float64' }, /dtype "float64" is not accepted; expected float32/],
      ['missing input', undefined, /missing input "input"/],
      ['NaN', wireTensor(nan, good.shape), /element 5 is NaN; inputs must be finite/],
      [
        'data neither bytes, base64 nor numbers',
        { ...good, data: { length: 3 } },
        /is not a tensor \{dtype, shape, data: bytes \| base64 \| numbers\}: data: expected bytes/,
      ],
      ['short data', { ...good, data: good.data.subarray(8) }, /needs 2048 bytes of data, got 2040/],
    ];
    for (const model of Object.values(MODELS)) {
      for (const [what, input, reason] of cases) {
        const reply = await c.infer(model, { id: `${model}-${what}`, ...(input === undefined ? {} : { input }) });
        assert.equal(reply.status, 'error', `${model}, ${what}`);
        assert.match(reply.reason!, reason, `${model}, ${what}`);
      }
      await expectSameAsDirect(model, good);
    }
    for (const w of c.workers) assert.equal(w.status().state, 'ready');
  });

  it('an activation or partial over the NATS max payload is answered with an error naming the limit', async () => {
    const max = c.client.info!.max_payload;
    // The input fits in a request; the [batch, seq, hidden] activation (twice as wide) does not.
    const batch = Math.ceil(max / (4 * spec.seq * spec.hidden)) + 1;
    assert.ok(4 * batch * spec.seq * spec.inputDim < max - 1024, 'the input itself fits');
    const input = randomInput(spec, batch, 31);
    const pipeline = await c.infer(MODELS.pp2, { input });
    assert.equal(pipeline.status, 'error');
    assert.match(
      pipeline.reason!,
      new RegExp(`the activation for stage 1 is \\d+ bytes, over the NATS max payload of ${max} bytes`),
    );
    const sharded = await c.infer(MODELS.op2, { input });
    assert.equal(sharded.status, 'error');
    assert.match(
      sharded.reason!,
      new RegExp(`the partial result of segment 0 is \\d+ bytes, over the NATS max payload of ${max} bytes`),
    );
    await expectSameAsDirect(MODELS.op2, randomInput(spec, 1, 32));
    await expectSameAsDirect(MODELS.pp2, randomInput(spec, 1, 33));
  });
});
