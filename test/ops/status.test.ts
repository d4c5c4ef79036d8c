// `meshserve status` against private servers: degrades when parts are missing, shows them when present.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ActorSystem } from '../../bus/index.js';
import { deviceLine } from '../../ops/status.js';
import { attainmentByModel, type DispatcherStats, ModelCounters, NO_LATENCY } from '../../serving/dispatcher/stats.js';
import { Greeter } from '../fixtures/greeter.js';
import { startServers, type TestServers } from '../helpers/servers.js';
import { startCluster, testProfile } from '../serving/helpers.js';

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
  const child = spawn(process.execPath, [cli, 'status', ...args], {
    env: { ...process.env, NATS_URL: servers.natsUrl, REDIS_URL: servers.redisUrl },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

test('an empty cluster: said plainly, exit 1 (never reported as fine); no placement, no rates, no dispatcher', async () => {
  const r = await status('--json');
  assert.equal(r.code, 1, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.match(s.cluster, /from NATS_URL and REDIS_URL$/);
  assert.deepEqual(s.actors, []);
  assert.deepEqual(s.devices, {});
  assert.equal(s.placement, undefined);
  assert.deepEqual(s.dispatcher, { unavailable: 'no dispatcher running' });
  const human = await status();
  assert.equal(human.code, 1);
  assert.match(
    human.stdout,
    /^cluster: nats:\/\/127\.0\.0\.1:\d+ and redis:\/\/127\.0\.0\.1:\d+, from NATS_URL and REDIS_URL\n/,
  );
  assert.match(human.stdout, /NOTHING RUNS HERE: no meshserve actor is registered on this cluster/);
  assert.match(human.stdout, /placement: none yet/);
  assert.doesNotMatch(human.stdout, /last placement attempt failed/);
  await system.redis!.set(
    'ms:placement:error',
    JSON.stringify({
      at: '2026-12-01T10:00:00.000Z',
      reason: 'device gpu-0 started',
      error: 'no profile for model "x"',
    }),
  );
  const failed = await status();
  assert.match(
    failed.stdout,
    /placement: none yet\n {2}last placement attempt failed at 2026-12-01T10:00:00.000Z \(device gpu-0 started\): no profile for model "x"/,
  );
  assert.equal(JSON.parse((await status('--json')).stdout).placementError.error, 'no profile for model "x"');
  await system.redis!.del('ms:placement:error');
  assert.match(human.stdout, /dispatcher: no dispatcher running/);
  assert.equal((await status('--alive-here')).code, 1);
});

test('a populated cluster: actors, devices, placement, rates, attainment', async () => {
  await system.spawn('greeter', new Greeter());
  const m1 = new ModelCounters();
  m1.requests = 10;
  for (let i = 0; i < 8; i++) m1.served(0.05, true);
  m1.rejected = 1;
  m1.errors = 1;
  const stats: DispatcherStats = {
    dispatcher: 'd',
    placementVersion: 4,
    inflight: 0,
    totals: { requests: 10, ok: 8, withinSlo: 8, rejected: 1, errors: 1, adopted: 0, yielded: 0 },
    peers: { present: false, notesSent: 0, notesReceived: 0 },
    models: { m1: m1.snapshot(NO_LATENCY) },
    groups: [],
  };
  await system.spawn('dispatcher', { stats: () => stats });
  const redis = system.redis!;
  const device = (id: string) => ({
    id,
    memoryBytes: '13958643712',
    executor: 'onnx',
    host: 'host-a',
    pid: '4242',
    registeredAt: '2026-12-01T10:00:00.000Z',
  });
  await redis.hset('ms:device:gpu-0', device('gpu-0'));
  await redis.hset('ms:device:gpu-10', device('gpu-10'));
  await redis.hset('ms:device:gpu-2', { memoryGb: '16', executor: 'simulated' });
  await redis.set('ms:rate:m1', '2.5');
  const groups = [
    {
      id: 'v4-0',
      config: { pp: 2, op: 2 },
      models: ['m1', 'm2'],
      devices: [
        ['gpu-0', 'gpu-1'],
        ['gpu-2', 'gpu-3'],
      ],
    },
    { id: 'v4-1', config: { pp: 1, op: 1 }, models: ['m2'], devices: [['gpu-10']] },
    { id: 'odd' },
  ];
  await redis.set('ms:placement:current', JSON.stringify({ version: 4, groups }));
  const r = await status('--json');
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual(s.actors.map((a: { name: string }) => a.name).sort(), ['dispatcher', 'greeter']);
  assert.deepEqual(s.devices, {
    'gpu-0': device('gpu-0'),
    'gpu-10': device('gpu-10'),
    'gpu-2': { memoryGb: '16', executor: 'simulated' },
  });
  assert.equal(s.placement.version, 4);
  assert.deepEqual(s.placement.groups, groups);
  assert.deepEqual(s.placement.models, ['m1', 'm2']);
  assert.deepEqual(s.rates, { m1: 2.5 });
  assert.ok('stats' in s.dispatcher);
  const human = await status();
  // One line per device, in natural order (gpu-2 before gpu-10): executor, memory, host:pid, worker state.
  assert.match(
    human.stdout,
    /\ndevices \(3\):\n {2}gpu-0 +onnx +13\.0 GiB {2}host-a:4242 {2}no worker registered\n {2}gpu-2: not a device record: \{"memoryGb":"16","executor":"simulated"\}\n {2}gpu-10 +onnx +13\.0 GiB {2}host-a:4242 {2}no worker registered\n/,
  );
  // One line per group: id, (pp, op), devices stage by stage, models; a malformed one as stored.
  assert.match(
    human.stdout,
    /\nplacement: version 4\n {2}v4-0 +\(pp 2, op 2\) {2}gpu-0,gpu-1 → gpu-2,gpu-3 {2}models: m1, m2\n {2}v4-1 +\(pp 1, op 1\) {2}gpu-10 {2}models: m2\n {2}group \{"id":"odd"\}\n {2}models: m1, m2\n/,
  );
  assert.doesNotMatch(human.stdout, /memoryBytes|"config"/, 'no raw JSON of devices or groups');
  assert.match(human.stdout, /attainment: m1=80\.0%/);
  assert.equal((await status('--alive-here')).code, 0, 'actors of this host are ready');
});

test('status exits 1 with a reason when Redis is unreachable', async () => {
  const child = spawn(process.execPath, [cli, 'status', '--connect-timeout', '500'], {
    env: { ...process.env, NATS_URL: servers.natsUrl, REDIS_URL: 'redis://127.0.0.1:1' },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(code, 1);
  assert.match(stderr, /^meshserve status: cannot connect to Redis at redis:\/\/127\.0\.0\.1:1: .*; the cluster: /); // ioredis refuses at once here; an unanswering host hits the timeout
});

test('attainmentByModel: within SLO ÷ all requests, models without requests left out', () => {
  const counters = (requests: number, within: number, late: number): ReturnType<ModelCounters['snapshot']> => {
    const c = new ModelCounters();
    c.requests = requests;
    for (let i = 0; i < within; i++) c.served(0.01, true);
    for (let i = 0; i < late; i++) c.served(0.5, false);
    c.rejected = requests - within - late;
    return c.snapshot(NO_LATENCY);
  };
  assert.deepEqual(
    attainmentByModel({ models: { a: counters(10, 7, 1), b: counters(0, 0, 0), c: counters(4, 4, 0) } }),
    { a: 0.7, c: 1 },
  );
});

test('against a live cluster (real dispatcher, planner, workers): groups, totals and attainment', async () => {
  const c = await startCluster({
    workers: 2,
    profiles: [testProfile('m', 0.01)],
    planner: {
      strategy: 'static',
      groups: [
        { config: { pp: 1, op: 1 }, models: ['m'] },
        { config: { pp: 1, op: 1 }, models: ['m'] },
      ],
    },
  });
  try {
    await c.planner.call('replace', 'test');
    for (let i = 0; i < 5; i++) assert.equal((await c.infer('m', { slo: 1 })).status, 'ok');
    for (let i = 0; i < 3; i++) assert.equal((await c.infer('m', { slo: 0.001 })).status, 'rejected');
    const child = spawn(process.execPath, [cli, 'status'], {
      env: { ...process.env, NATS_URL: c.servers.natsUrl, REDIS_URL: c.servers.redisUrl },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    assert.equal(await new Promise((resolve) => child.once('exit', resolve)), 0, out);
    assert.match(out, /placement: version 1/);
    const here = `${hostname()}:${process.pid}`; // the workers run in this test's process
    assert.match(
      out,
      new RegExp(
        `\\n {2}gpu-0 +sim +13\\.0 GiB {2}${here} {2}ready\\n {2}gpu-1 +sim +13\\.0 GiB {2}${here} {2}ready\\n`,
      ),
    );
    assert.match(
      out,
      /\n {2}v1-0 +\(pp 1, op 1\) {2}gpu-\d {2}models: m\n {2}v1-1 +\(pp 1, op 1\) {2}gpu-\d {2}models: m\n/,
    );
    assert.match(out, /dispatcher: placement v1, 0 in flight; 8 requests: 5 ok \(5 within SLO\), 3 rejected, 0 errors/);
    assert.match(out, /attainment: m=62\.5%/);
    assert.match(out, /group v1-0: routed \d+, ok \d+, errors 0, in flight 0/);
    assert.match(out, /group v1-1: routed/);
  } finally {
    await c.close();
  }
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

test('a device line takes the state of the worker incarnation its record names, else the newest', () => {
  const record = { id: 'gpu-1', memoryBytes: '2147483648', executor: 'sim', host: 'h', pid: '7', registeredAt: 'x' };
  const worker = (pid: number, state: 'ready' | 'draining') => ({
    id: `w${pid}`,
    name: 'gpu-1',
    kind: 'GpuWorker',
    host: 'h',
    pid,
    startedAt: 'x',
    state,
  });
  assert.equal(
    deviceLine('gpu-1', record, [worker(7, 'draining'), worker(9, 'ready')]),
    'gpu-1    sim     2.0 GiB  h:7  draining',
  );
  assert.equal(
    deviceLine('gpu-1', record, [worker(5, 'ready'), worker(9, 'draining')]),
    'gpu-1    sim     2.0 GiB  h:7  draining',
  );
  assert.equal(deviceLine('gpu-1', record, []), 'gpu-1    sim     2.0 GiB  h:7  no worker registered');
});
