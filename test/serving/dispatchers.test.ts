// Several dispatchers share the public subject (a queue group) and the same mesh groups: the
// internal request ids they put on stage work must never collide (sharded stages key their
// partial results by them).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decode, encode } from '../../bus/index.js';
import { Dispatcher } from '../../serving/dispatcher/dispatcher.js';
import { StageWork } from '../../serving/protocol/messages.js';
import { RuntimeSubjects } from '../../serving/protocol/subjects.js';
import { startCluster, type TestCluster, testProfile } from './helpers.js';

describe('serving runtime: two dispatchers', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({
      workers: 2,
      profiles: [testProfile('m', 0.002)],
      planner: { strategy: 'static', groups: [{ config: { pp: 1, op: 2 }, models: ['m'] }] },
    });
    await c.system.spawn('dispatcher-2', new Dispatcher());
    await c.planner.call('replace', 'test');
  });
  after(() => c?.close());

  it('stage work of both carries distinct request ids, and every request is served', async () => {
    const placement = await c.planner.call('current');
    const rids: string[] = [];
    const seen = c.client.subscribe(new RuntimeSubjects(c.system.subjects).stage(placement!.groups[0].id, 0), {
      callback: (_e, msg) => {
        rids.push(StageWork.parse(decode(msg.data)).rid);
      },
    });
    await c.client.flush();
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => c.infer('m', { id: `r${i}`, slo: 5 })));
    seen.unsubscribe();
    assert.deepEqual(
      replies.map((r) => r.status),
      replies.map(() => 'ok'),
    );
    assert.equal(rids.length, 40);
    assert.equal(new Set(rids).size, 40, `request ids collide: ${rids.join(' ')}`);
  });
});

describe('serving runtime: two dispatchers share their bookings', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({
      workers: 1,
      profiles: [testProfile('slow', 0.1)],
      planner: { strategy: 'static', groups: [{ config: { pp: 1, op: 1 }, models: ['slow'] }] },
    });
    await c.system.spawn('dispatcher-2', new Dispatcher());
    await c.planner.call('replace', 'test');
  });
  after(() => c?.close());

  async function bothSeePeers(): Promise<void> {
    const end = Date.now() + 5_000;
    for (;;) {
      const [a, b] = await Promise.all([
        c.dispatcher.call('stats'),
        c.system.actor<Dispatcher>('dispatcher-2').call('stats'),
      ]);
      if (a.peers.present && b.peers.present) return;
      if (Date.now() > end) assert.fail('the dispatchers never heard of each other');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('admits only what the one device can finish in time, whichever dispatcher takes a request', async () => {
    await bothSeePeers();
    // 20 requests 5 ms apart, SLO 0.35 s, one device at ~0.1 s each: about three fit. Each
    // dispatcher alone would see only its own share of the queue and admit about twice that.
    const pending = [];
    for (let i = 0; i < 20; i++) {
      pending.push(c.infer('slow', { id: `b${i}`, slo: 0.35 }));
      await new Promise((r) => setTimeout(r, 5));
    }
    const replies = await Promise.all(pending);
    const [a, b] = await Promise.all([
      c.dispatcher.call('stats'),
      c.system.actor<Dispatcher>('dispatcher-2').call('stats'),
    ]);
    assert.ok(
      a.totals.requests > 0 && b.totals.requests > 0,
      `both took requests: ${a.totals.requests} / ${b.totals.requests}`,
    );
    // (A dispatcher whose share was all rejected booked nothing, so only the sum is sure to be > 0.)
    assert.ok(a.peers.notesReceived + b.peers.notesReceived > 0, 'bookings went between them');
    const late = replies.filter((r) => r.status === 'ok' && !r.withinSlo);
    const served = replies.filter((r) => r.status === 'ok');
    assert.deepEqual(
      late.map((r) => r.id),
      [],
      'served but late: admitted against a queue the dispatcher did not see',
    );
    assert.ok(served.length >= 2 && served.length <= 4, `served ${served.length}`);
    assert.equal(replies.filter((r) => r.status === 'rejected').length, 20 - served.length);
  });

  it('is not blocked by forged peer notes: a booking stamped an hour ahead, a view an hour ahead', async () => {
    await new Promise((r) => setTimeout(r, 600)); // the burst above has drained
    const placement = (await c.planner.call('current'))!;
    const group = placement.groups[0].id;
    const at = Date.now() / 1000 + 3_600;
    const to = (await c.dispatcher.call('stats')).dispatcher;
    c.client.publish(
      new RuntimeSubjects(c.system.subjects).dispatchPeers,
      encode({
        from: 'forged',
        notes: [
          { kind: 'booked', group, version: placement.version, model: 'slow', at }, // booked at receipt: one request's time
          { kind: 'clocks', group, version: placement.version, to, ahead: [3_600], busyFor: 3_600 }, // past PEER_MAX_AHEAD: ignored
        ],
      }),
    );
    await new Promise((r) => setTimeout(r, 150)); // the forged booking (0.1 s) has left
    await c.client.flush();
    await new Promise((r) => setTimeout(r, 50));
    const reply = await c.infer('slow', { id: 'after-forgery', slo: 0.35 });
    assert.equal(reply.status, 'ok', reply.reason);
  });
});

describe('serving runtime: a dispatcher that joins a busy cluster', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({
      workers: 1,
      profiles: [testProfile('slow', 0.1)],
      planner: { strategy: 'static', groups: [{ config: { pp: 1, op: 1 }, models: ['slow'] }] },
    });
    await c.planner.call('replace', 'test');
  });
  after(() => c?.close());

  it("gets the others' view of each group at once, not an empty queue", async () => {
    // About 3 s of work queued through the only dispatcher (no SLO: all admitted).
    const pending = Array.from({ length: 30 }, (_, i) => c.infer('slow', { id: `q${i}` }));
    await new Promise((r) => setTimeout(r, 100));
    await c.system.spawn('dispatcher-late', new Dispatcher());
    const late = c.system.actor<Dispatcher>('dispatcher-late');
    const end = Date.now() + 2_000;
    let backlog = 0;
    while (Date.now() < end) {
      const s = await late.call('stats');
      backlog = s.groups.find((g) => g.current)?.backlogMs ?? 0;
      if (backlog > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(backlog > 1_500, `the newcomer's backlog estimate: ${backlog} ms`);
    const replies = await Promise.all(pending);
    assert.deepEqual(
      replies.filter((r) => r.status !== 'ok'),
      [],
    );
  });
});
