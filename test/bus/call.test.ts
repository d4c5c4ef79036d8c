// call / tell, typed handles, timeouts, remote errors, unknown methods, malformed payloads, JSON.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import {
  type ActorContext,
  ActorSystem,
  CallTimeoutError,
  decode,
  ErrorCodes,
  encode,
  jsonContentHeaders,
  NoRespondersError,
  RemoteError,
  ValidationError,
} from '../../bus/index.js';
import { Counter } from '../fixtures/actors.js';
import { startServers, type TestServers } from '../helpers/servers.js';

process.env.LOG_LEVEL ??= 'silent';

describe('actor calls', () => {
  let servers: TestServers;
  let system: ActorSystem;

  before(async () => {
    servers = await startServers({ nats: true, redis: false });
    system = await ActorSystem.connect({ natsUrl: servers.natsUrl, registry: false, defaultTimeoutMs: 2_000 });
    await system.spawn('counter', new Counter());
  });
  after(async () => {
    await system?.close();
    await servers?.close();
  });

  it('call returns the method result and tell is applied in order', async () => {
    const counter = system.actor<Counter>('counter');
    const start = await counter.call('get');
    counter.tell('inc', 2);
    counter.tell('inc', 3);
    assert.equal(await counter.call('inc', 0), start + 5);
    assert.equal(await counter.proxy.inc(1), start + 6);
  });

  it('async methods are awaited and structured values round-trip', async () => {
    const counter = system.actor<Counter>('counter');
    const before = await counter.call('get');
    assert.equal(await counter.call('slowInc', 4, 5), before + 4);
    const value = { a: [1, 'two', null], nested: { ok: true } };
    assert.deepEqual(await counter.call('echo', value), value);
    // binary stays binary (msgpack bin; decoded as a Buffer, a Uint8Array subclass, on Node)
    const bytes = await counter.call('echo', new Uint8Array([1, 2, 3]));
    assert.ok(bytes instanceof Uint8Array);
    assert.deepEqual([...bytes], [1, 2, 3]);
  });

  it('remote errors come back typed with name, message and code', async () => {
    const err = await system
      .actor<Counter>('counter')
      .call('fail', 'boom')
      .catch((e: unknown) => e);
    assert.ok(err instanceof RemoteError);
    assert.equal(err.remoteName, 'RangeError');
    assert.equal(err.remoteMessage, 'boom');
    assert.equal(err.code, 'E_TEST');
    assert.equal(err.actor, 'counter');
    assert.equal(err.method, 'fail');
    // the actor keeps serving after a handler throws
    assert.equal(typeof (await system.actor<Counter>('counter').call('get')), 'number');
  });

  it('an unknown or private method is an error reply naming the method', async () => {
    const handle = system.actor<Record<string, () => void>>('counter');
    for (const method of ['nope', '_secret', 'onStart']) {
      const err = await handle.call(method).catch((e: unknown) => e);
      assert.ok(err instanceof RemoteError, String(err));
      assert.equal(err.code, ErrorCodes.unknownMethod);
      assert.match(err.remoteMessage, new RegExp(`no method "${method}"`));
    }
  });

  it('a slow reply times out with CallTimeoutError', async () => {
    const started = Date.now();
    const err = await system
      .actor<Counter>('counter', { timeoutMs: 50 })
      .call('slowInc', 1, 300)
      .catch((e: unknown) => e);
    assert.ok(err instanceof CallTimeoutError, String(err));
    assert.equal(err.timeoutMs, 50);
    assert.ok(Date.now() - started < 250);
  });

  it('withOptions overrides the timeout per call', async () => {
    const counter = system.actor<Counter>('counter');
    const err = await counter
      .withOptions({ timeoutMs: 30 })
      .call('slowInc', 0, 200)
      .catch((e: unknown) => e);
    assert.ok(err instanceof CallTimeoutError);
    assert.equal(typeof (await counter.call('slowInc', 0, 1)), 'number');
  });

  it('a call to a name nobody serves fails fast with NoRespondersError', async () => {
    const started = Date.now();
    const err = await system
      .actor<Counter>('nobody')
      .call('get')
      .catch((e: unknown) => e);
    assert.ok(err instanceof NoRespondersError, String(err));
    assert.ok(Date.now() - started < 1_000);
  });

  it('malformed payloads get a BAD_REQUEST reply and never crash the actor', async () => {
    const subject = system.subjects.actorMethod('counter', 'inc');
    const garbage = [
      new Uint8Array([0xc1]),
      new Uint8Array([0x92, 0x01]),
      encode({ notArgs: 1 }),
      encode([1, 2]),
      encode('hello'),
      new Uint8Array(),
    ];
    for (const payload of garbage) {
      const reply = decode((await system.nats.request(subject, payload, { timeout: 1_000 })).data) as {
        ok: boolean;
        error: { code: string; message: string };
      };
      assert.equal(reply.ok, false);
      assert.equal(reply.error.code, ErrorCodes.badRequest);
      assert.match(reply.error.message, /malformed msgpack payload for counter\.inc/);
    }
    const badJson = await system.nats.request(subject, '{"args": [1', {
      timeout: 1_000,
      headers: jsonContentHeaders(),
    });
    const parsed = JSON.parse(badJson.string()) as { ok: boolean; error: { code: string } };
    assert.equal(parsed.error.code, ErrorCodes.badRequest);
    assert.equal(typeof (await system.actor<Counter>('counter').call('get')), 'number');
  });

  it('JSON requests get JSON replies', async () => {
    const subject = system.subjects.actorMethod('counter', 'echo');
    const msg = await system.nats.request(subject, JSON.stringify({ args: [{ x: 1 }] }), {
      timeout: 1_000,
      headers: jsonContentHeaders(),
    });
    assert.equal(msg.headers?.get('content-type'), 'application/json');
    assert.deepEqual(JSON.parse(msg.string()), { ok: true, value: { x: 1 } });
    assert.deepEqual(await system.actor<Counter>('counter', { encoding: 'json' }).call('echo', [1, 'a']), [1, 'a']);
  });

  it('argument schemas reject bad arguments with INVALID_ARGS', async () => {
    await system.spawn('strict-counter', new Counter(), { args: { inc: z.tuple([z.number().int().positive()]) } });
    const strict = system.actor<Counter>('strict-counter');
    assert.equal(await strict.call('inc', 2), 2);
    const err = await strict.call('inc', -1).catch((e: unknown) => e);
    assert.ok(err instanceof RemoteError);
    assert.equal(err.code, ErrorCodes.invalidArgs);
    assert.match(err.remoteMessage, /invalid arguments for strict-counter\.inc: 0:/);
    await system.stop('strict-counter');
  });

  it('actors reach other actors through their context', async () => {
    class Front {
      private ctx!: ActorContext;
      onStart(ctx: ActorContext): void {
        this.ctx = ctx;
      }
      async incTwice(by: number): Promise<number> {
        const counter = this.ctx.actor<Counter>('counter');
        await counter.call('inc', by);
        return counter.call('inc', by);
      }
      whoami(): { name: string; id: string; kind: string } {
        return { name: this.ctx.name, id: this.ctx.id, kind: this.ctx.kind };
      }
    }
    const front = await system.spawn('front', new Front());
    const before = await system.actor<Counter>('counter').call('get');
    assert.equal(await system.actor<Front>('front').call('incTwice', 5), before + 10);
    assert.deepEqual(await system.actor<Front>('front').call('whoami'), { name: 'front', id: front.id, kind: 'Front' });
    await system.stop('front');
  });

  it('a failing onStart fails the spawn and frees the name', async () => {
    class Broken {
      onStart(): void {
        throw new Error('no config');
      }
      ping(): string {
        return 'pong';
      }
    }
    await assert.rejects(system.spawn('broken', new Broken()), /no config/);
    assert.equal(system.local('broken'), undefined);
    await assert.rejects(system.actor<Broken>('broken').call('ping'), NoRespondersError);
    class Fixed extends Broken {
      override onStart(): void {}
    }
    const fixed = await system.spawn('broken', new Fixed());
    assert.equal(fixed.state, 'ready');
    assert.equal(await system.actor<Fixed>('broken').call('ping'), 'pong');
    await system.stop('broken');
  });

  it('rejects names that are not subject tokens', async () => {
    assert.throws(() => system.actor('a.b'), ValidationError);
    await assert.rejects(system.spawn('has space', new Counter()), ValidationError);
    await assert.rejects(system.spawn('counter', new Counter()), /already runs/);
  });
});
