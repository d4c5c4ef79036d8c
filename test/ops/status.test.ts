// `meshserve status` against private servers: degrades when parts are missing, shows them when present.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ActorSystem } from '../../bus/index.js';
import { Greeter } from '../../bus/demo.js';
import { attainmentOf } from '../../actors/status.js';
import { startServers, type TestServers } from '../helpers/servers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'dist/scripts/meshserve.js');

let servers: TestServers;
let system: ActorSystem;

before(async () => {
  servers = await startServers({ nats: true, redis: true });
  system = await ActorSystem.connect({ natsUrl: servers.natsUrl, redisUrl: servers.redisUrl, name: 'status-test' });
});
after(async () => {
  await system.close();
  await servers.close();
});

async function status(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, 'status', ...args], { env: { ...process.env, NATS_URL: servers.natsUrl, REDIS_URL: servers.redisUrl } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

test('an empty cluster: no placement, no rates, no dispatcher running; --alive-here fails', async () => {
  const r = await status('--json');
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual(s.actors, []);
  assert.deepEqual(s.devices, {});
  assert.equal(s.placement, undefined);
  assert.deepEqual(s.dispatcher, { unavailable: 'no dispatcher running' });
  const human = await status();
  assert.match(human.stdout, /placement: none yet/);
  assert.match(human.stdout, /dispatcher: no dispatcher running/);
  assert.equal((await status('--alive-here')).code, 1);
});

test('a populated cluster: actors, devices, placement, rates, attainment', async () => {
  await system.spawn('greeter', new Greeter());
  await system.spawn('dispatcher', {
    stats: () => ({ series: [{ model: 'm1', group: 'g0', requests: 10, rejections: 1, errors: 1 }] }),
  });
  const redis = system.redis!;
  await redis.hset('ms:device:gpu-0', { memoryGb: '16', executor: 'simulated' });
  await redis.set('ms:rate:m1', '2.5');
  await redis.set('ms:placement:current', JSON.stringify({ version: 4, groups: [{ id: 'g0', models: ['m1', 'm2'] }] }));
  const r = await status('--json');
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual(s.actors.map((a: { name: string }) => a.name).sort(), ['dispatcher', 'greeter']);
  assert.deepEqual(s.devices, { 'gpu-0': { memoryGb: '16', executor: 'simulated' } });
  assert.equal(s.placement.version, 4);
  assert.deepEqual(s.placement.models, ['m1', 'm2']);
  assert.deepEqual(s.rates, { m1: 2.5 });
  assert.ok('stats' in s.dispatcher);
  const human = await status();
  assert.match(human.stdout, /placement: version 4/);
  assert.match(human.stdout, /attainment: m1=80\.0%/);
  assert.equal((await status('--alive-here')).code, 0, 'actors of this host are ready');
});

test('status exits 1 with a reason when Redis is unreachable', async () => {
  const child = spawn(process.execPath, [cli, 'status', '--connect-timeout', '500'], { env: { ...process.env, NATS_URL: servers.natsUrl, REDIS_URL: 'redis://127.0.0.1:1' } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(code, 1);
  assert.match(stderr, /^status: \S/); // ioredis refuses at once here; an unanswering host hits the timeout
});

test('attainmentOf: good = requests − rejections − errors, per model over groups', () => {
  assert.deepEqual(
    attainmentOf({
      series: [
        { model: 'a', group: 'g0', requests: 4, rejections: 1, errors: 0 },
        { model: 'a', group: 'g1', requests: 6, rejections: 0, errors: 1 },
        { model: 'b', group: 'none', requests: 0, rejections: 0, errors: 0 },
      ],
    }),
    { a: 0.8, b: 1 },
  );
  assert.deepEqual(attainmentOf({ other: 1 }), {});
});

test('status gives up after --connect-timeout when the server never answers', async () => {
  // A listener that accepts and stays silent: the NATS handshake never completes.
  const silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as AddressInfo).port;
  try {
    const started = Date.now();
    const child = spawn(process.execPath, [cli, 'status', '--connect-timeout', '300'], {
      env: { ...process.env, NATS_URL: `nats://127.0.0.1:${port}`, REDIS_URL: servers.redisUrl },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, 1);
    assert.match(stderr, /no connection to NATS_URL\/REDIS_URL within 300 ms/);
    assert.ok(Date.now() - started < 5_000);
  } finally {
    silent.close();
  }
});
