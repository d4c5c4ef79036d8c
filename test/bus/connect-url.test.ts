// NATS_URL credentials: nats.js ignores `user:pass@` in a server URL, so the bus takes them out
// and passes them as options; and URLs are printed with their secrets masked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectNats, connectRedis, natsServersFrom, redactUrl } from '../../bus/index.js';

describe('NATS_URL credentials', () => {
  it('leaves URLs without credentials alone', () => {
    assert.deepEqual(natsServersFrom('nats://127.0.0.1:4222'), { servers: ['nats://127.0.0.1:4222'] });
    assert.deepEqual(natsServersFrom('nats://a:1, b:2'), { servers: ['nats://a:1', 'b:2'] });
  });

  it('takes user:pass (percent-decoded) or a token out of every server URL', () => {
    assert.deepEqual(natsServersFrom('nats://worker:s3cret@nats:4222'), {
      servers: ['nats://nats:4222'],
      user: 'worker',
      pass: 's3cret',
    });
    assert.deepEqual(natsServersFrom('nats://u:p%40ss%3A@a:1,nats://u:p%40ss%3A@b:2'), {
      servers: ['nats://a:1', 'nats://b:2'],
      user: 'u',
      pass: 'p@ss:',
    });
    assert.deepEqual(natsServersFrom('tls://tok@h:4443'), { servers: ['tls://h:4443'], token: 'tok' });
    // Unencoded '@' and '/' in a password (generated secrets): split at the last '@'.
    assert.deepEqual(natsServersFrom('nats://u:p@ss/w0rd@host:4222'), {
      servers: ['nats://host:4222'],
      user: 'u',
      pass: 'p@ss/w0rd',
    });
    assert.deepEqual(natsServersFrom('nats://u:p@[::1]:4222'), {
      servers: ['nats://[::1]:4222'],
      user: 'u',
      pass: 'p',
    });
    // One server with credentials, another without: the connection's one set applies to both.
    assert.deepEqual(natsServersFrom('nats://u:p@a:1,nats://b:2'), {
      servers: ['nats://a:1', 'nats://b:2'],
      user: 'u',
      pass: 'p',
    });
  });

  it('refuses conflicting credentials, bad percent-encoding and an empty URL, without echoing secrets', () => {
    assert.throws(
      () => natsServersFrom('nats://a:pw-alpha@x:1,nats://a:pw-beta@y:1'),
      (err: Error) => {
        assert.match(err.message, /different credentials/);
        assert.doesNotMatch(err.message, /pw-alpha|pw-beta/);
        return true;
      },
    );
    assert.throws(() => natsServersFrom('nats://u:%E0%A4%A@x:1'), /bad percent-encoding/);
    assert.throws(() => natsServersFrom(' , '), /NATS_URL is empty/);
  });

  it('redacts passwords and tokens for printing', () => {
    assert.equal(redactUrl('nats://client:pw@host:4222'), 'nats://client:***@host:4222');
    assert.equal(redactUrl('redis://:pw@redis:6379'), 'redis://:***@redis:6379');
    assert.equal(redactUrl('tok@h:1,nats://h2:2'), '***@h:1,nats://h2:2');
    assert.equal(redactUrl('nats://127.0.0.1:4222'), 'nats://127.0.0.1:4222');
    assert.equal(redactUrl('nats://u:p@ss/w0rd@host:4222'), 'nats://u:***@host:4222');
    assert.equal(redactUrl('redis://:a/b@c@redis:6379/0'), 'redis://:***@redis:6379/0');
  });

  it('a failed first connection names the server, password masked', async () => {
    await assert.rejects(connectNats({ url: 'nats://u:pw-nats@127.0.0.1:1' }), (err: Error) => {
      assert.match(err.message, /^cannot connect to NATS at nats:\/\/u:\*\*\*@127\.0\.0\.1:1: /);
      assert.doesNotMatch(err.message, /pw-nats/);
      return true;
    });
    await assert.rejects(connectRedis({ url: 'redis://:pw-redis@127.0.0.1:1' }), (err: Error) => {
      assert.match(err.message, /^cannot connect to Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1: /);
      assert.doesNotMatch(err.message, /pw-redis/);
      return true;
    });
  });
});
