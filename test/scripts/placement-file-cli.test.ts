// The round trip of a placement file: `meshserve place` writes it, `meshserve replay --placement`
// and `meshserve planner --placement` put exactly its groups on a running cluster.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPlacementFile } from '../../dev/placement-file.js';
import type { RuntimePlacement } from '../../serving/protocol/placement.js';
import { ROOT, runCli } from '../helpers/cli.js';
import { until } from '../helpers/until.js';
import { startCluster, type TestCluster } from '../serving/helpers.js';

const groupsOf = (p: Pick<RuntimePlacement, 'groups'>) => p.groups.map((g) => ({ config: g.config, models: g.models }));

describe('placement files on a running cluster', () => {
  let c: TestCluster;
  let dir: string;
  let scenario: string;
  let env: Record<string, string>;
  before(async () => {
    c = await startCluster({ workers: 8, profiles: [] });
    env = { NATS_URL: c.servers.natsUrl, REDIS_URL: c.servers.redisUrl };
    dir = mkdtempSync(join(tmpdir(), 'placement-file-'));
    const example = JSON.parse(readFileSync(join(ROOT, 'examples/scenario.json'), 'utf8'));
    scenario = join(dir, 'scenario.json');
    writeFileSync(
      scenario,
      JSON.stringify({ ...example, workload: { ...example.workload, totalRate: 10, duration: 3 }, sim: {} }),
    );
  });
  after(async () => {
    await c?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('replay --placement serves the groups `place` wrote', { timeout: 60_000 }, async () => {
    const file = join(dir, 'sr.json');
    const placed = await runCli(['place', scenario, '--algorithm', 'selective-replication', '--out', file]);
    assert.equal(placed.status, 0, placed.stderr);
    const r = await runCli(['replay', scenario, '--placement', file, '--json'], env);
    assert.equal(r.status, 0, r.stderr);
    const live = JSON.parse(r.stdout);
    assert.ok(live.live.requests > 0);
    const current = await c.planner.call('current');
    assert.ok(current);
    assert.equal(current.version, live.placementVersion);
    assert.deepEqual(groupsOf(current), groupsOf(loadPlacementFile(file)));
  });

  it('planner --placement places the file at once', { timeout: 60_000 }, async () => {
    const file = join(dir, 'pipeline.json');
    const placed = await runCli(['place', scenario, '--algorithm', 'pipeline', '--out', file]);
    assert.equal(placed.status, 0, placed.stderr);
    const want = groupsOf(loadPlacementFile(file));
    const refused = await runCli(['planner', '--placement', file, '--strategy', 'selective-replication'], env);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /^meshserve planner: a placement file names the groups: .* not selective-replication/);
    const before = await c.planner.call('current');
    assert.notDeepEqual(before && groupsOf(before), want, 'the test needs a placement that differs');
    let child: ChildProcess | undefined;
    try {
      child = spawn(
        process.execPath,
        [join(ROOT, 'dist/scripts/meshserve.js'), 'planner', '--name', 'planner-from-file', '--placement', file],
        { env: { ...process.env, ...env, LOG_LEVEL: 'silent' }, stdio: 'ignore' },
      );
      await until(
        'the planner to place the file',
        async () => {
          const json = await c.system.redis!.get('ms:placement:current');
          const p = json && (JSON.parse(json) as RuntimePlacement);
          return Boolean(p && p.version !== before?.version && JSON.stringify(groupsOf(p)) === JSON.stringify(want));
        },
        30_000,
        100,
      );
    } finally {
      child?.kill('SIGTERM');
    }
  });

  it('start --placement serves the file on as many workers as it uses', { timeout: 60_000 }, async () => {
    const file = join(dir, 'start.json');
    const placed = await runCli(['place', scenario, '--algorithm', 'pipeline', '--out', file]);
    assert.equal(placed.status, 0, placed.stderr);
    const groups = loadPlacementFile(file).groups;
    const tooFew = await runCli(['start', '--placement', file, '--workers', '2'], {}, dir);
    assert.equal(tooFew.status, 1);
    assert.match(tooFew.stderr, /^meshserve start: the placement .* uses 8 devices; --workers 2 is too few/);
    const r = await runCli(['start', '--placement', file, '--duration', '6', '--no-metrics'], {}, dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /a dispatcher and 8 simulated GPU workers/);
    assert.match(
      r.stdout,
      new RegExp(`serving 6 models on ${groups.length} mesh groups \\(placement v\\d+, static\\)`),
    );
    assert.doesNotMatch(r.stdout, /demo:/, 'no demo: the file names other models');
    // Only a strategy that takes the file's groups goes with it: adaptive starts from them.
    const other = await runCli(['start', '--placement', file, '--strategy', 'alpaserve'], {}, dir);
    assert.equal(other.status, 1);
    assert.match(
      other.stderr,
      /^meshserve start: a placement file names the groups: with it, the strategy can only be adaptive \(which starts from them\), not alpaserve/,
    );
    // The adaptive policy's options reach the planner that start forks: asked from a second terminal.
    const adaptive = spawn(
      process.execPath,
      [
        join(ROOT, 'dist/scripts/meshserve.js'),
        ...['start', '--placement', file, '--strategy', 'adaptive', '--departure-loads', '2', '--duration', '60'],
        '--no-metrics',
      ],
      { cwd: dir, env: { ...process.env, LOG_LEVEL: 'silent' } },
    );
    let out = '';
    adaptive.stdout.on('data', (d: Buffer) => (out += d));
    const closed = new Promise((r) => adaptive.on('close', r));
    try {
      const serving = new RegExp(`serving 6 models on ${groups.length} mesh groups \\(placement v\\d+, adaptive\\)`);
      await until('the banner', async () => serving.test(out), 45_000, 100);
      const asked = await runCli(['repl'], {}, dir, 'await call("planner", "configure", {})');
      assert.match(asked.stdout, /adaptive: \{ departureLoads: 2 \}/, asked.stdout + asked.stderr);
    } finally {
      adaptive.kill('SIGINT');
      await closed;
    }
  });
});
