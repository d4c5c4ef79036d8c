// Finding the cluster: NATS_URL / REDIS_URL win; else the record of a running `meshserve start`
// in the working directory or above; a record whose process is gone is an error, never an empty
// cluster; without either, the defaults.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { findClusterRecord, removeClusterRecord, writeClusterRecord } from '../../config/cluster-record.js';
import { describeCluster, NoClusterError, readEnvironment } from '../../config/environment.js';

const root = mkdtempSync(join(tmpdir(), 'cluster-record-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A pid that no process has: a child that has exited. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid!;

function recordIn(dir: string, fields: Record<string, unknown>): void {
  mkdirSync(join(dir, '.meshserve'), { recursive: true });
  writeFileSync(
    join(dir, '.meshserve', 'cluster.json'),
    JSON.stringify({ host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', ...fields }),
  );
}

test('a live record gives both URLs, from its directory and any below it', () => {
  const dir = join(root, 'live');
  recordIn(dir, { natsUrl: 'nats://127.0.0.1:1111', redisUrl: 'redis://127.0.0.1:2222', pid: process.pid });
  const below = join(dir, 'a', 'b');
  mkdirSync(below, { recursive: true });
  for (const cwd of [dir, below]) {
    const env = readEnvironment({}, cwd);
    assert.equal(env.cluster.kind, 'record');
    assert.equal(env.bus.natsUrl, 'nats://127.0.0.1:1111');
    assert.equal(env.bus.redisUrl, 'redis://127.0.0.1:2222');
    assert.deepEqual(env.servers, { natsUrl: undefined, redisUrl: undefined }, 'start still runs its own servers');
    assert.match(describeCluster(env), /recorded in .*live\/\.meshserve\/cluster\.json/);
  }
});

test('NATS_URL and REDIS_URL win; one of them set fills in the other only from a record naming the same server', () => {
  const dir = join(root, 'explicit');
  recordIn(dir, { natsUrl: 'nats://127.0.0.1:1111', redisUrl: 'redis://127.0.0.1:2222', pid: process.pid });
  const both = readEnvironment({ NATS_URL: 'nats://h:1', REDIS_URL: 'redis://h:2' }, dir);
  assert.deepEqual(
    [both.cluster.kind, both.bus.natsUrl, both.bus.redisUrl],
    ['environment', 'nats://h:1', 'redis://h:2'],
  );
  const same = readEnvironment({ NATS_URL: 'nats://127.0.0.1:1111' }, dir);
  assert.deepEqual([same.cluster.kind, same.bus.redisUrl], ['record', 'redis://127.0.0.1:2222']);
  // Another NATS: never mixed with this record's Redis.
  const other = readEnvironment({ NATS_URL: 'nats://elsewhere:4222' }, dir);
  assert.deepEqual([other.cluster.kind, other.bus.redisUrl], ['environment', 'redis://127.0.0.1:6379']);
  assert.match(describeCluster(other), /from NATS_URL and the default Redis/);
});

test('a stale record (its start process is gone) is an error that says so, not an empty cluster', () => {
  const dir = join(root, 'stale');
  const pid = deadPid();
  recordIn(dir, { natsUrl: 'nats://127.0.0.1:1111', redisUrl: 'redis://127.0.0.1:2222', pid });
  const env = readEnvironment({}, dir);
  assert.equal(env.cluster.kind, 'unusable');
  assert.throws(() => env.bus.natsUrl, NoClusterError);
  assert.throws(() => env.bus, new RegExp(`is gone: the \`meshserve start\` that wrote it \\(pid ${pid}`));
  // Set URLs still work beside a stale record.
  assert.equal(readEnvironment({ NATS_URL: 'nats://h:1', REDIS_URL: 'redis://h:2' }, dir).bus.natsUrl, 'nats://h:1');
  const broken = join(root, 'broken');
  mkdirSync(join(broken, '.meshserve'), { recursive: true });
  writeFileSync(join(broken, '.meshserve', 'cluster.json'), '{ not json');
  assert.throws(() => readEnvironment({}, broken).bus, /is not a cluster record/);
});

test('no record and no variables: the defaults, described as such', () => {
  const dir = mkdtempSync(join(root, 'none-'));
  // tmpdir() has no record above it on a test machine; if one had, the nearest would be taken.
  if (findClusterRecord(dir)) return;
  const env = readEnvironment({}, dir);
  assert.equal(env.cluster.kind, 'default');
  assert.equal(env.bus.natsUrl, 'nats://127.0.0.1:4222');
  assert.match(
    describeCluster(env),
    /the defaults \(NATS_URL and REDIS_URL are unset, and no \.meshserve\/cluster\.json/,
  );
});

test('the writer: owner-only file; removed only by the process that wrote it', () => {
  const dir = join(root, 'writer');
  const file = writeClusterRecord(dir, { natsUrl: 'nats://a:1', redisUrl: 'redis://a:2', dashboardUrl: 'http://x/' });
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const written = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(written.pid, process.pid);
  assert.equal(written.dashboardUrl, 'http://x/');
  recordIn(dir, { natsUrl: 'nats://b:1', redisUrl: 'redis://b:2', pid: deadPid() }); // another start took over
  removeClusterRecord(file);
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).natsUrl, 'nats://b:1', 'not ours: left alone');
  writeClusterRecord(dir, { natsUrl: 'nats://a:1', redisUrl: 'redis://a:2' });
  removeClusterRecord(file);
  assert.equal(findClusterRecord(dir)?.file === file, false);
});
