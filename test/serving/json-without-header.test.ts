// The public subject reads a body that starts with `{` or `[` (after JSON whitespace) as JSON when
// no content-type header says otherwise, and answers it in JSON; MessagePack is unchanged. A
// malformed request of a served model counts as one of its requests: the totals add up.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { headers } from '@nats-io/transport-node';
import { decode, encode } from '../../bus/index.js';
import { bodyEncoding } from '../../serving/dispatcher/ingress.js';
import { startCluster, type TestCluster, testProfile } from './helpers.js';

let c: TestCluster;
before(async () => {
  c = await startCluster({
    workers: 1,
    profiles: [testProfile('m', 0.01)],
    planner: { strategy: 'static', groups: [{ config: { pp: 1, op: 1 }, models: ['m'] }] },
  });
  await c.planner.call('replace', 'test');
});
after(() => c.close());

const bytes = (text: string) => new TextEncoder().encode(text);

/** Sends `body` on ms.infer.m without headers; the reply's body as text and its content-type. */
async function raw(body: Uint8Array): Promise<{ text: string; type: string }> {
  const reply = await c.client.request('ms.infer.m', body, { timeout: 5_000 });
  return { text: new TextDecoder().decode(reply.data), type: reply.headers?.get('content-type') ?? '' };
}

test('bodyEncoding: the header wins; without one, { or [ after whitespace means JSON', () => {
  assert.equal(bodyEncoding(undefined, bytes('{"id":"x"}')), 'json');
  assert.equal(bodyEncoding(undefined, bytes(' \r\n\t[1]')), 'json');
  assert.equal(bodyEncoding(undefined, encode({ id: 'x' })), 'msgpack');
  assert.equal(bodyEncoding(undefined, new Uint8Array()), 'msgpack');
  const h = headers();
  h.set('content-type', 'application/msgpack');
  assert.equal(bodyEncoding(h, bytes('{"id":"x"}')), 'msgpack');
  const j = headers();
  j.set('Content-Type', 'application/json; charset=utf-8');
  assert.equal(bodyEncoding(j, bytes('{"id":"x"}')), 'json');
});

test('a JSON request without the header is served and answered in JSON', async () => {
  const ok = await raw(bytes('{"id":"j1","input":[1,2],"slo":2}'));
  assert.equal(ok.type, 'application/json');
  const reply = JSON.parse(ok.text);
  assert.deepEqual([reply.id, reply.status, reply.output], ['j1', 'ok', [1, 2]]);
  // Its errors come back in JSON too, readable by a JSON-only client.
  const invalid = JSON.parse((await raw(bytes('  [1, 2]'))).text);
  assert.equal(invalid.status, 'error');
  assert.match(invalid.reason, /^invalid request/);
  const malformed = JSON.parse((await raw(bytes('{"id": "j2", '))).text);
  assert.equal(malformed.status, 'error');
  assert.match(malformed.reason, /^malformed json body/);
  // MessagePack as before.
  const packed = await c.client.request('ms.infer.m', encode({ id: 'p1', slo: 2 }), { timeout: 5_000 });
  assert.equal((decode(packed.data) as { status: string }).status, 'ok');
});

test('the totals add up: requests = ok + rejected + errors, malformed requests included', async () => {
  await c.infer('m', { slo: 0.0001 }); // rejected
  const stats = await c.dispatcher.call('stats');
  const t = stats.totals;
  assert.ok(t.errors >= 2 && t.rejected >= 1 && t.ok >= 2, JSON.stringify(t));
  assert.equal(t.requests, t.ok + t.rejected + t.errors, JSON.stringify(t));
  const m = stats.models.m;
  assert.equal(m.requests, m.ok + m.rejected + m.errors);
});
