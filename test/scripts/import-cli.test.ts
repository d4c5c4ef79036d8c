// `meshserve import` from the command line: a real model imported, measured and stored (Redis,
// JSON, the model store); an unchanged file imports and uploads nothing; every bad file gets one
// line `meshserve import: <reason>`, exit 1, and nothing is stored; usage errors exit 2.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { connectNats } from '../../bus/index.js';
import { loadProfilesFile } from '../../dev/planner-files.js';
import { ModelStore } from '../../serving/model-store/model-store.js';
import { runCli } from '../helpers/cli.js';
import { startServers, type TestServers } from '../helpers/servers.js';
import { modelBytes, node, OCR_CLS, readModel, valueInfo } from '../modelimport/helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const _cli = join(root, 'dist/scripts/meshserve.js');

describe('meshserve import', () => {
  let servers: TestServers;
  let nc: NatsConnection;
  let redis: Redis;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'import-cli-'));
    servers = await startServers({ nats: true, redis: true, jetstream: true });
    env = { NATS_URL: servers.natsUrl, REDIS_URL: servers.redisUrl };
    nc = await connectNats({ url: servers.natsUrl });
    redis = new Redis(servers.redisUrl);
  });
  after(async () => {
    redis?.disconnect();
    await nc?.close();
    await servers?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const importCli = (args: string[]) => runCli(['import', ...args], env, dir);

  const objects = async () => (await ModelStore.open(nc)).list();

  it('bad files: one line each, exit 1, and nothing stored', async () => {
    const write = (name: string, bytes: Uint8Array) => {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      return path;
    };
    const unknownOp = modelBytes({
      name: 'unknown-op',
      node: [node('NoSuchOperator', ['x'], ['y'])],
      input: [valueInfo('x', [1, 4])],
      output: [valueInfo('y', [1, 4])],
    });
    const cases: Array<[string, string[], RegExp]> = [
      [
        'not-onnx',
        [write('notes.onnx', new TextEncoder().encode('# not a model\n'.repeat(40)))],
        /^meshserve import: not an ONNX model: /,
      ],
      [
        'truncated',
        [write('cut.onnx', readModel(OCR_CLS).subarray(0, 200_000))],
        /^meshserve import: the ONNX file is truncated/,
      ],
      [
        'refused',
        [write('unknown.onnx', unknownOp)],
        /^meshserve import: onnxruntime refuses the model: .*NoSuchOperator/,
      ],
      [
        'dynamic',
        [OCR_CLS],
        /^meshserve import: input "x" has dynamic dimensions .*--input-shape x=1,3,<size>,<size>$/,
      ],
      [
        'wrong shape',
        [OCR_CLS, '--input-shape', 'x=1,3,48'],
        /^meshserve import: input "x" is \[.*\]; the shape \[1, 3, 48\] given for it does not fit$/,
      ],
    ];
    for (const [name, args, message] of cases) {
      const r = await importCli([...args, '--name', name, '--out', `${name}.json`]);
      assert.equal(r.status, 1, `${name}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `${name}: ${r.stderr}`);
      assert.match(lines[0], message);
      assert.equal(await redis.get(`ms:profile:${name}`), null, `${name}: no profile in Redis`);
      assert.ok(!existsSync(join(dir, `${name}.json`)), `${name}: no profile file`);
    }
    assert.deepEqual(await objects(), [], 'nothing in the model store');
  });

  it('meshserve serve refuses to serve a repository when no ONNX worker is registered', async () => {
    const repo = join(dir, 'repo');
    mkdirSync(join(repo, 'ocr-cls'), { recursive: true });
    writeFileSync(join(repo, 'ocr-cls', 'model.onnx'), readModel(OCR_CLS));
    writeFileSync(join(repo, 'ocr-cls', 'meshserve.json'), '{ "slo": 0.5, "inputShape": { "x": [1, 3, 48, 192] } }');
    const r = await runCli(['serve', repo], env, dir);
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      /^meshserve serve: no ONNX workers are registered: start them with meshserve worker --executor onnx$/m,
    );
    assert.deepEqual(await objects(), [], 'nothing imported');
  });

  it('usage errors exit 2', async () => {
    assert.equal((await importCli([OCR_CLS, '--input-shape', 'x=1,3,a'])).status, 2);
    assert.equal((await importCli([OCR_CLS, '--max-pp', '3'])).status, 2);
    assert.equal((await importCli([])).status, 2);
  });

  it('imports a real model: stage files in the store, the measured profile in Redis and JSON; unchanged, it uploads nothing', async () => {
    const args = [
      OCR_CLS,
      '--name',
      'ocr-cls',
      '--input-shape',
      'x=1,3,48,192',
      '--max-pp',
      '2',
      '--runs',
      '2',
      '--warmup',
      '1',
    ];
    const r = await importCli(args);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\| pp2-op1 \| 1 \| \d+ \| softmax_0\.tmp_0 \|/m);
    assert.match(
      r.stdout,
      /^op > 1: not offered: its 1 MatMul\/Gemm layer\(s\) with constant weights are too small to be worth an all-reduce \(largest 400 weights/m,
    );
    assert.match(
      r.stdout,
      /ocr-cls: 3 stage file\(s\) uploaded, 0 already stored; configs pp1-op1, pp2-op1; wrote profile-ocr-cls\.json and ms:profile:ocr-cls/,
    );
    assert.match(r.stderr, /ocr-cls: pp2: stages of [\d.]+ \/ [\d.]+ ms \(node times\); max relative difference/);
    const [profile] = loadProfilesFile(join(dir, 'profile-ocr-cls.json'));
    assert.equal(profile.source, 'measured');
    assert.deepEqual(JSON.parse((await redis.get('ms:profile:ocr-cls'))!), profile);
    const stored = (await objects()).sort();
    const named = Object.values(profile.imported!.stages).flatMap((s) => s.map((x) => x.object));
    assert.deepEqual(stored, [...new Set(named)].sort());

    const again = await importCli(args);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /ocr-cls: unchanged, nothing uploaded/);
    assert.deepEqual((await objects()).sort(), stored);
  });
});
