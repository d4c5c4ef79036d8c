// Several dispatchers share the public subject (a queue group) and the same mesh groups: the
// internal request ids they put on stage work must never collide (sharded stages key their
// partial results by them).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decode } from '../../bus/index.js';
import { Dispatcher } from '../../actors/dispatcher.js';
import { RuntimeSubjects, StageWork } from '../../actors/protocol.js';
import { startCluster, testProfile, type TestCluster } from './helpers.js';

describe('serving runtime: two dispatchers', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({ workers: 2, profiles: [testProfile('m', 0.002)], planner: { strategy: 'static', groups: [{ config: { pp: 1, op: 2 }, models: ['m'] }] } });
    await c.system.spawn('dispatcher-2', new Dispatcher());
    await c.planner.call('replace', 'test');
  });
  after(() => c?.close());

  it('stage work of both carries distinct request ids, and every request is served', async () => {
    const placement = await c.planner.call('current');
    const rids: string[] = [];
    const seen = c.client.subscribe(new RuntimeSubjects(c.system.subjects).stage(placement!.groups[0].id, 0), {
      callback: (_e, msg) => { rids.push(StageWork.parse(decode(msg.data)).rid); },
    });
    await c.client.flush();
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => c.infer('m', { id: `r${i}`, slo: 5 })));
    seen.unsubscribe();
    assert.deepEqual(replies.map((r) => r.status), replies.map(() => 'ok'));
    assert.equal(rids.length, 40);
    assert.equal(new Set(rids).size, 40, `request ids collide: ${rids.join(' ')}`);
  });
});
