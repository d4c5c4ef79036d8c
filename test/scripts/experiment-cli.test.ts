// `meshserve experiment` end to end: --list, a quick run writing CSV + SVG, exit codes.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'dist/scripts/meshserve.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, 'experiment', ...args], { encoding: 'utf8', cwd: root });

test('experiment --list: one line per experiment', () => {
  const r = run('--list');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.length >= 28);
  assert.ok(lines.some((l) => /^motivation-slo\s+\S/.test(l)));
  assert.ok(lines.some((l) => /^devices-s3-maf2\s+SLO attainment vs devices/.test(l)));
});

test('experiment --quick writes CSV and SVG, prints the headline, progress on stderr', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exp-cli-'));
  try {
    const r = run('slo-s1-maf1', 'motivation-memory', '--quick', '--out', dir);
    assert.equal(r.status, 0, r.stderr);
    for (const name of ['slo-s1-maf1', 'motivation-memory']) {
      const csv = readFileSync(join(dir, `${name}.csv`), 'utf8')
        .trim()
        .split('\n');
      assert.equal(
        csv[0],
        'experiment,x,system,attainment,mean_latency_s,p99_latency_s,requests,placement,simulations',
      );
      assert.ok(csv.length > 3);
      assert.match(readFileSync(join(dir, `${name}.svg`), 'utf8'), /<svg[\s\S]*<\/svg>/);
    }
    assert.match(r.stdout, /smallest SLO scale .* at 99% attainment/);
    assert.match(r.stdout, /AlpaServe vs Selective Replication:/);
    assert.match(r.stdout, /Adaptive AlpaServe vs Clockwork\+\+:/);
    // 3 points × 5 systems (AlpaServe static and adaptive, SR, CW++ free and priced).
    assert.match(r.stderr, /\[slo-s1-maf1 \d+\/15\]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('experiment: unknown name or missing name exits 2, bad option exits 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exp-cli-'));
  try {
    const a = run('no-such-experiment', '--quick', '--out', dir);
    assert.equal(a.status, 2);
    assert.match(a.stderr, /unknown experiment "no-such-experiment"/);
    assert.ok(!existsSync(join(dir, 'no-such-experiment.csv')));
    const b = run();
    assert.equal(b.status, 2);
    assert.match(b.stderr, /--list/);
    const c = run('slo-s1-maf1', '--beam', '0');
    assert.equal(c.status, 2);
    assert.match(c.stderr, /positive integer/);
    const h = run('--help');
    assert.equal(h.status, 0);
    assert.match(h.stdout, /--quick/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
