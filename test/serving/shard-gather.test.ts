// The all-gather between the shards of a stage: buffering of early partials, peer failures,
// timeouts; and, through a live worker, that a job waiting for its peer lets the device run the
// next job, so shards that see requests in different orders do not deadlock.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ActorPing, decode, encode } from '../../bus/index.js';
import { planPartition } from '../../modelgen/partition.js';
import { DEFAULT_SEED, modelIO, transformerSpec } from '../../modelgen/transformer.js';
import { bindPlacement } from '../../serving/planner-actor/bind.js';
import { type InferReply, StagePartial, type StageSync, type StageWork } from '../../serving/protocol/messages.js';
import { RuntimeSubjects } from '../../serving/protocol/subjects.js';
import { float32Values, parseWireTensor, wireTensor } from '../../serving/protocol/tensor.js';
import { ShardGather } from '../../serving/worker/shard-gather.js';
import { randomInput } from '../modelgen/helpers.js';
import { startCluster, type TestCluster, testProfile } from './helpers.js';

function gather(shard: number, timeoutMs = 1_000): { g: ShardGather; sent: StagePartial[] } {
  const sent: StagePartial[] = [];
  return { g: new ShardGather({ shard, shards: 2, timeoutMs, publish: (m) => sent.push(m) }), sent };
}

describe('shard gather', () => {
  it('a partial that arrived early is used at once; a late one completes the wait', async () => {
    const { g, sent } = gather(0);
    g.receive({ rid: 'a', segment: 0, shard: 1, partial: 'p1' });
    const job = g.forJob('a');
    let waited = false;
    void job.waiting.then(() => (waited = true));
    assert.deepEqual(await job.exchange.allGather(0, 'p0'), ['p0', 'p1']);
    const second = job.exchange.allGather(1, 'q0');
    g.receive({ rid: 'a', segment: 1, shard: 0, partial: 'echo of my own' }); // own messages are ignored
    g.receive({ rid: 'a', segment: 1, shard: 1, partial: 'q1' });
    assert.deepEqual(await second, ['q0', 'q1']);
    assert.equal(waited, true, 'segment 1 had to wait');
    assert.deepEqual(
      sent.map((m) => [m.segment, m.partial]),
      [
        [0, 'p0'],
        [1, 'q0'],
      ],
    );
    g.release('a');
    g.close();
  });

  it('a peer that gives up fails the waiting job; this shard aborting tells the peers once', async () => {
    const { g, sent } = gather(1);
    const job = g.forJob('b').exchange;
    const waiting = job.allGather(0, 'x');
    g.receive({ rid: 'b', segment: 0, shard: 0, error: 'input "input": got shape [1, 2]' });
    await assert.rejects(waiting, /shard 0: input "input": got shape \[1, 2\]/);
    g.abort('b', 'shard 0 failed');
    assert.equal(sent.filter((m) => m.error).length, 0, 'a failure caused by a peer is not echoed back');
    const c = g.forJob('c').exchange;
    g.abort('c', 'onnxruntime failed');
    assert.deepEqual(sent.at(-1), { rid: 'c', segment: 0, shard: 1, error: 'onnxruntime failed' });
    void c;
    g.close();
  });

  it('a missing peer times out with the segment and the shard it waited for', async () => {
    const { g } = gather(0, 50);
    await assert.rejects(
      g.forJob('d').exchange.allGather(3, 'x'),
      /no partial result of segment 3 from shard 1 within 50 ms/,
    );
    g.close();
  });
});

describe('sharded worker: a job waiting for its peer does not hold the device', () => {
  const spec = transformerSpec('tiny');
  const lastSegment = planPartition(spec, { pp: 1, op: 2 }).stages[0].segments.length - 1; // the head
  let c: TestCluster;
  const subjects = new RuntimeSubjects();
  const group = 'v1-0';

  before(async () => {
    // One real ONNX worker as shard 0 of an op-2 stage; shard 1 is played by this test.
    c = await startCluster({
      workers: 1,
      profiles: [],
      worker: { executor: 'onnx', ort: { intraOpThreads: 1 }, reduceTimeoutMs: 3_000 },
    });
    const profile = { ...testProfile('tiny', 0.02, 0.001), onnx: { size: 'tiny', seed: DEFAULT_SEED } };
    const placement = bindPlacement(
      { groups: [{ devices: 2, config: { pp: 1, op: 2 }, models: ['tiny'] }] },
      ['gpu-0', 'peer'],
      {
        version: 1,
        strategy: 'test',
        reason: 'test',
        params: { stagePenalty: 0, overhead: 0 },
        profiles: [profile],
      },
    );
    // The fake peer answers liveness pings like any actor, or the dispatcher routes around it.
    c.client.subscribe(c.system.subjects.actorPing('peer'), {
      callback: (_e, msg) => {
        msg.respond(encode({ id: 'peer', name: 'peer', state: 'ready' } satisfies ActorPing));
      },
    });
    await c.system.actor<{ assign(p: unknown): unknown }>('gpu-0').call('assign', placement);
    c.client.publish(subjects.placement, encode(placement));
    await c.client.flush();
    await new Promise((r) => setTimeout(r, 100));
  });
  after(() => c?.close());

  it('the peer answers the second request first, and both complete', async () => {
    // The fake peer learns the requests' order from the stage subject, answers every partial of
    // the second request at once and holds the first request's until the second is done.
    const order: string[] = [];
    const held: StagePartial[] = [];
    let holdFirst = true;
    const answer = (m: StagePartial): void => {
      const shape = m.segment === lastSegment ? [1, spec.seq, spec.outputDim] : [1, spec.seq, spec.hidden];
      const zeros = wireTensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
      c.client.publish(
        subjects.stageReduce(group, 0, 1),
        encode({ rid: m.rid, segment: m.segment, shard: 1, partial: zeros } satisfies StagePartial),
      );
      if (m.segment === lastSegment) {
        const sync: StageSync = { rid: m.rid, shard: 1, start: Date.now() / 1000, finish: Date.now() / 1000 };
        c.client.publish(subjects.stageSync(group, 0), encode(sync));
        if (m.rid === order[1]) {
          holdFirst = false;
          for (const h of held.splice(0)) answer(h);
        }
      }
    };
    const subs = [
      c.client.subscribe(subjects.stage(group, 0), {
        callback: (_e, msg) => {
          order.push((decode(msg.data) as StageWork).rid);
        },
      }),
      c.client.subscribe(subjects.stageReduce(group, 0, 0), {
        callback: (_e, msg) => {
          const m = StagePartial.parse(decode(msg.data));
          if (m.shard !== 0) return;
          if (holdFirst && m.rid === order[0]) held.push(m);
          else answer(m);
        },
      }),
    ];
    await c.client.flush();
    const finished: string[] = [];
    const send = (id: string): Promise<InferReply> =>
      c.infer('tiny', { id, input: randomInput(spec, 1, id.length) }).then((r) => {
        finished.push(id);
        return r;
      });
    const first = send('first');
    await new Promise((r) => setTimeout(r, 20));
    const replies = await Promise.all([first, send('second')]);
    for (const s of subs) s.unsubscribe();
    for (const r of replies) {
      assert.equal(r.status, 'ok', r.reason);
      assert.deepEqual(parseWireTensor(r.output, modelIO(spec).output).shape, [1, spec.seq, spec.outputDim]);
      assert.ok(float32Values(parseWireTensor(r.output, modelIO(spec).output)).some((v) => v !== 0));
    }
    assert.deepEqual(finished, ['second', 'first'], 'the second request overtook the first one waiting for its peer');
  });
});
