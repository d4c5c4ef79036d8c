// Codec, subjects and schemas: the pure parts of the bus.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { Packr } from 'msgpackr';
import {
  ActorEvent,
  CallEnvelope,
  decode,
  encode,
  encodingOf,
  headersFor,
  methodOf,
  parseOrThrow,
  Subjects,
  ValidationError,
} from '../../bus/index.js';

describe('codec', () => {
  it('round-trips values as plain MessagePack that a records-free reader decodes', () => {
    const value = { args: [1, 'two', { three: [3] }, null, true] };
    const bytes = encode(value);
    assert.deepEqual(decode(bytes), value);
    // no msgpackr record extension: a plain decoder sees the same map
    assert.deepEqual(new Packr({ useRecords: false, mapsAsObjects: true }).unpack(bytes), value);
    // a MessagePack map (msgpackr writes map16), not a record extension (0xc7-0xc9, 0xd4-0xd8)
    assert.ok(bytes[0] === 0xde || (bytes[0] & 0xf0) === 0x80, `first byte 0x${bytes[0].toString(16)}`);
  });

  it('uses JSON only when content-type says so', () => {
    assert.equal(encodingOf(undefined), 'msgpack');
    assert.equal(encodingOf(headersFor('json')), 'json');
    assert.equal(headersFor('msgpack'), undefined);
    const mixedCase = natsHeaders();
    mixedCase.set('Content-Type', 'application/json; charset=utf-8');
    assert.equal(encodingOf(mixedCase), 'json');
    const bytes = encode({ a: 1 }, 'json');
    assert.equal(new TextDecoder().decode(bytes), '{"a":1}');
    assert.deepEqual(decode(bytes, 'json'), { a: 1 });
  });

  it('writes bytes (Uint8Array views and Buffers) as base64 strings in JSON', () => {
    const backing = new Uint8Array([9, 1, 2, 255, 9]);
    const text = new TextDecoder().decode(
      encode({ view: backing.subarray(1, 4), buf: Buffer.from('hi'), n: [1] }, 'json'),
    );
    assert.equal(text, '{"view":"AQL/","buf":"aGk=","n":[1]}');
    // MessagePack keeps them as bytes.
    assert.ok((decode(encode({ b: backing })) as { b: Uint8Array }).b instanceof Uint8Array);
  });

  it('throws on malformed input', () => {
    assert.throws(() => decode(new Uint8Array([0x92, 0x01])), /end of MessagePack data/); // truncated array
    assert.throws(() => decode(new TextEncoder().encode('{'), 'json'));
  });
});

describe('subjects', () => {
  it('builds subjects under a prefix', () => {
    const s = new Subjects('ms');
    assert.equal(s.actorMethod('counter', 'inc'), 'ms.actor.counter.inc');
    assert.equal(s.actorWildcard('counter'), 'ms.actor.counter.>');
    assert.equal(s.event('actor.dead'), 'ms.events.actor.dead');
    assert.equal(s.custom('group', 'g1', 'stage', '0'), 'ms.group.g1.stage.0');
    assert.equal(new Subjects('ms.test').actorMethod('a', 'b'), 'ms.test.actor.a.b');
    assert.equal(methodOf('ms.actor.counter.inc'), 'inc');
  });

  it('rejects tokens that would break subjects', () => {
    for (const bad of ['a.b', 'a b', '*', '>', '', 'a\tb']) {
      assert.throws(() => new Subjects().actorBase(bad), ValidationError, bad);
    }
    assert.throws(() => new Subjects('ms..x'), ValidationError);
  });
});

describe('schemas', () => {
  it('validate envelopes and events with messages naming the field', () => {
    assert.deepEqual(parseOrThrow(CallEnvelope, { args: [1] }, 'call'), { args: [1] });
    assert.throws(() => parseOrThrow(CallEnvelope, { args: 1 }, 'call'), /invalid call: args: /);
    assert.throws(
      () => parseOrThrow(ActorEvent, { kind: 'actor.dead', actor: { id: 'x' }, at: 'now' }, 'actor event'),
      (err: unknown) => err instanceof ValidationError && /actor\.name/.test(err.message),
    );
  });
});
