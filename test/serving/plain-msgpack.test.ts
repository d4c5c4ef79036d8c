// The public subject takes plain MessagePack only. msgpackr extension types (a Date, a Set, a
// RegExp, a typed array, `undefined`, an Error, …) decode to values no other language sends; a
// body that is one, or holds one anywhere, gets exactly one error reply and is never served.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createInbox } from '@nats-io/transport-node';
import { Packr } from 'msgpackr';
import { decode } from '../../bus/index.js';
import { InferReply } from '../../serving/protocol/messages.js';
import { RuntimeSubjects } from '../../serving/protocol/subjects.js';
import { sleep, until } from '../helpers/until.js';
import { startCluster, type TestCluster, testProfile } from './helpers.js';

// What a msgpackr user gets by default with structured types on: extensions, not plain MessagePack.
const exotic = new Packr({ moreTypes: true, structuredClone: true });

const CASES: Array<[string, unknown]> = [
  ['a Date body', new Date(0)],
  ['a Set body', new Set([1, 2])],
  ['a RegExp body', /x+/g],
  ['a Float32Array body', new Float32Array([1, 2])],
  ['an undefined body', undefined],
  ['an Error body', new Error('boom')],
  ['a Date input', { id: 'd', input: new Date(0), slo: 5 }],
  ['a Set deep in the input', { id: 's', input: { a: [1, { b: new Set([1]) }] }, slo: 5 }],
  ['a typed array input', { id: 't', input: { data: new Int16Array([1, 2]) }, slo: 5 }],
  ['an undefined input field', { id: 'u', input: { x: undefined } }],
  ['an undefined id', { id: undefined, input: 1 }],
  ['a DataView input', { input: new DataView(new ArrayBuffer(4)) }],
];

describe('serving runtime: plain MessagePack on the public subject', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({
      workers: 1,
      profiles: [testProfile('m', 0.002)],
      planner: { strategy: 'static', groups: [{ config: { pp: 1, op: 1 }, models: ['m'] }] },
    });
    await c.planner.call('replace', 'test');
  });
  after(() => c?.close());

  it('answers every body holding a msgpackr extension with exactly one clear error', async () => {
    const subject = new RuntimeSubjects(c.system.subjects).infer('m');
    const inbox = createInbox();
    const replies = new Map<string, InferReply[]>();
    const sub = c.client.subscribe(`${inbox}.*`, {
      callback: (_e, msg) => {
        const key = msg.subject.slice(inbox.length + 1);
        const list = replies.get(key) ?? [];
        list.push(InferReply.parse(decode(msg.data)));
        replies.set(key, list);
      },
    });
    CASES.forEach(([, body], i) => {
      c.client.publish(subject, exotic.pack(body), { reply: `${inbox}.${i}` });
    });
    // A plain map with binary input is fine (MessagePack bin), as is an empty body.
    c.client.publish(subject, exotic.pack({ id: 'ok', input: { data: Buffer.from([1, 2]) }, slo: 5 }), {
      reply: `${inbox}.plain`,
    });
    c.client.publish(subject, new Uint8Array(0), { reply: `${inbox}.empty` });
    await until('every body answered', () => replies.size === CASES.length + 2, 10_000);
    await sleep(200); // duplicates would arrive now
    sub.unsubscribe();
    const served = CASES.flatMap(([what], i) => (replies.get(String(i))?.[0].status === 'ok' ? [what] : []));
    assert.deepEqual(served, [], 'bodies with extensions served');
    CASES.forEach(([what], i) => {
      const got = replies.get(String(i)) ?? [];
      assert.equal(got.length, 1, `${what}: ${got.length} replies`);
      assert.equal(got[0].status, 'error', what);
      assert.match(got[0].reason ?? '', /plain MessagePack/, `${what}: ${got[0].reason}`);
    });
    assert.equal(replies.get('plain')?.[0].status, 'ok', JSON.stringify(replies.get('plain')));
    assert.equal(replies.get('empty')?.[0].status, 'ok', JSON.stringify(replies.get('empty')));
  });
});
