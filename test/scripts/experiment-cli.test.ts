// `meshserve experiment` end to end: --list, a quick run writing CSV + SVG, exit codes.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

    // Re-running one system at one point keeps every other row of the record as it is.
    const file = join(dir, 'slo-s1-maf1.csv');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const x = lines[1].split(',')[1];
    const at = (system: string) => lines.findIndex((l) => l.startsWith(`slo-s1-maf1,${x},${system},`));
    const [own, other] = [at('AlpaServe'), at('Selective Replication')];
    const spoilt = lines.map((l, i) =>
      i === own || i === other ? l.replace(/^([^,]*,[^,]*,[^,]*),[^,]*/, '$1,0.123') : l,
    );
    writeFileSync(file, `${spoilt.join('\n')}\n`);
    const again = run('slo-s1-maf1', '--quick', '--out', dir, '--systems', 'AlpaServe', '--points', x);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /\[slo-s1-maf1 0\/1\] x=\S+ AlpaServe/);
    assert.match(again.stdout, /kept 14 rows of .* as recorded; ran 1/);
    const rerun = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(rerun[own], lines[own], 'the row re-run is computed again');
    assert.equal(rerun[other], spoilt[other], 'a row not re-run is kept as recorded');
    assert.deepEqual(
      rerun.filter((_, i) => i !== own && i !== other),
      lines.filter((_, i) => i !== own && i !== other),
    );
    const typo = run('slo-s1-maf1', '--quick', '--out', dir, '--systems', 'AlpaServ');
    assert.equal(typo.status, 2);
    assert.match(
      typo.stderr,
      /slo-s1-maf1 has no system "AlpaServ"; did you mean .*"AlpaServe"\? \(it has: AlpaServe, /,
    );
    const noPoint = run('slo-s1-maf1', '--quick', '--out', dir, '--points', '12345');
    assert.equal(noPoint.status, 2);
    assert.match(noPoint.stderr, /slo-s1-maf1 has no point 12345; its points are 1, 5, 10 \(SLO scale/);
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
    const d = run('slo-s1-maf1', '--departure-loads', '0');
    assert.equal(d.status, 2);
    assert.match(d.stderr, /must be a number ≥ 1/);
    const h = run('--help');
    assert.equal(h.status, 0);
    assert.match(h.stdout, /--quick/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
