// `meshserve profile` end to end: it measures the tiny model over NATS, writes ms:profile:<model>
// and a JSON file the planner library loads; the planner actor then places the model from that
// measured profile on ONNX workers, and a request through the dispatcher returns the model's
// output. Exit codes 2 (usage) and 1 (no server).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadProfilesFile } from '../../dev/planner-files.js';
import { modelIO, transformerSpec } from '../../modelgen/transformer.js';
import { RuntimeKeys } from '../../serving/protocol/keys.js';
import { float32Values, parseWireTensor } from '../../serving/protocol/tensor.js';
import { runCli } from '../helpers/cli.js';
import { compare, loadFullModel, randomInput } from '../modelgen/helpers.js';
import { startCluster, type TestCluster } from '../serving/helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'dist/scripts/meshserve.js');
const spec = transformerSpec('tiny');

const profileCli = (args: string[], env: Record<string, string>) => runCli(['profile', ...args], env);

describe('meshserve profile', () => {
  let c: TestCluster;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'profile-cli-'));
    c = await startCluster({
      workers: 2,
      profiles: [],
      worker: { executor: 'onnx', ort: { intraOpThreads: 1 } },
      planner: { models: [spec.name] },
    });
  });
  after(async () => {
    await c?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the measured profile to Redis and JSON; the planner places from it and the model serves', async () => {
    const out = join(dir, 'tiny.json');
    const r = await profileCli(['tiny', '--devices', '2', '--runs', '3', '--warmup', '1', '--out', out], {
      NATS_URL: c.servers.natsUrl,
      REDIS_URL: c.servers.redisUrl,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /transformer-tiny: 3 config\(s\) fit 2 device\(s\): pp1-op1, pp1-op2, pp2-op1/);
    assert.match(r.stderr, /NATS hop \[1,16,64\]: [\d.]+ ms/);
    assert.match(r.stdout, /^\| pp1-op2 \| 0 \| .* \| 10 \| [\d.]+ \| [\d.]+ \| \*\*[\d.]+\*\* \|$/m);
    assert.match(
      r.stdout,
      new RegExp(`wrote ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} and ms:profile:transformer-tiny`),
    );

    const [fromFile] = loadProfilesFile(out);
    assert.equal(fromFile.name, spec.name);
    assert.equal(fromFile.source, 'measured');
    assert.deepEqual(Object.keys(fromFile.configs).sort(), ['pp1-op1', 'pp1-op2', 'pp2-op1']);
    const stored = await c.system.redis!.get(new RuntimeKeys().profile(spec.name));
    assert.deepEqual(JSON.parse(stored!), fromFile, 'Redis and the file hold the same profile');

    // The planner (its default AlpaServe search) reads the measured profile from Redis.
    const summary = await c.planner.call('replace', 'measured profile');
    assert.ok(summary.groups.length >= 1);
    const placed = await c.planner.call('current');
    assert.equal(placed!.profiles[0].source, 'measured');
    assert.deepEqual(placed!.profiles[0].onnx, fromFile.onnx);
    const input = randomInput(spec, 1, 41);
    const reply = await c.infer(spec.name, { input });
    assert.equal(reply.status, 'ok', reply.reason);
    const direct = await loadFullModel(spec);
    const expected = float32Values(await direct.run(input));
    await direct.unload();
    const { maxAbsDiff, maxAbs } = compare(
      expected,
      float32Values(parseWireTensor(reply.output, modelIO(spec).output)),
    );
    assert.ok(maxAbsDiff <= 1e-4 * Math.max(1, maxAbs), `max abs diff ${maxAbsDiff}`);
  });

  it('exits 2 on usage errors and 1 when NATS is not there', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [cli, 'profile', ...args], {
        encoding: 'utf8',
        env: { ...process.env, NATS_URL: 'nats://127.0.0.1:1', LOG_LEVEL: 'silent' },
      });
    const unknown = run('huge');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown model size "huge"; known sizes: tiny, small, base/);
    const badConfig = run('tiny', '--configs', 'pp2');
    assert.equal(badConfig.status, 2);
    assert.match(badConfig.stderr, /"pp2" is not a config like pp2-op1/);
    const noServer = run('tiny', '--no-redis', '--out', join(dir, 'never.json'));
    assert.equal(noServer.status, 1);
    assert.match(noServer.stderr, /^meshserve profile: cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/);
  });
});
