// Re-placement while serving: requests in flight on the old groups complete, new ones go to the
// new groups, nothing is lost or answered with an error.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCluster, type TestCluster, testProfile } from './helpers.js';

describe('serving runtime: re-placement', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({
      workers: 4,
      profiles: [testProfile('a', 0.02), testProfile('b', 0.02)],
      planner: { strategy: 'round-robin' },
    });
    await c.planner.call('replace', 'initial');
  });
  after(() => c?.close());

  it('loses nothing while the placement changes twice under load', async () => {
    const pending: Promise<{ status: string; group?: string }>[] = [];
    let sending = true;
    const sender = (async () => {
      let i = 0;
      while (sending) {
        pending.push(c.infer(i % 2 ? 'a' : 'b', { id: `r${i}` }, { timeoutMs: 20_000 }));
        i++;
        await new Promise((r) => setTimeout(r, 4));
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    c.planner.call('configure', {
      strategy: 'static',
      groups: [
        { config: { pp: 2, op: 1 }, models: ['a', 'b'] },
        { config: { pp: 1, op: 2 }, models: ['a', 'b'] },
      ],
    });
    const v2 = await c.planner.call('replace', 'to pipelines');
    await new Promise((r) => setTimeout(r, 300));
    await c.planner.call('configure', { strategy: 'round-robin' });
    const v3 = await c.planner.call('replace', 'back to replication');
    await new Promise((r) => setTimeout(r, 300));
    sending = false;
    await sender;
    const replies = await Promise.all(pending);
    assert.ok(replies.length > 100, `sent ${replies.length}`);
    const notOk = replies.filter((r) => r.status !== 'ok');
    assert.deepEqual(notOk, [], 'every request served');
    const versions = new Set(replies.map((r) => r.group!.split('-')[0]));
    assert.deepEqual([...versions].sort(), ['v1', 'v2', 'v3'], 'all three placements served requests');
    assert.equal(v3.version, v2.version + 1);
    // Old stages are retired once idle.
    await new Promise((r) => setTimeout(r, 800));
    for (const w of c.workers) for (const key of w.status().stages) assert.match(key, /^v3-/);
  });
});
