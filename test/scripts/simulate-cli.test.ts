// `meshserve simulate` end to end: exit codes, JSON output, clear errors.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'dist/scripts/meshserve.js');
const example = join(root, 'examples/scenario.json');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, 'simulate', ...args], { encoding: 'utf8', cwd: root });

test('simulate the example: --json result, --records file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
  try {
    const records = join(dir, 'records.csv');
    const r = run(example, '--json', '--policy', 'last-stage-clock', '--records', records);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.policy, 'last-stage-clock');
    assert.ok(out.attainment > 0 && out.attainment <= 1);
    assert.equal(out.perModel.length, 6);
    const lines = readFileSync(records, 'utf8').trim().split('\n');
    assert.equal(lines[0], 'arrival,model,slo,group,start,finish,good');
    assert.ok(lines.length > out.requests, 'records cover every request (trimmed ones too)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('simulate: bad input exits 1 with a one-line reason, bad usage exits 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
  try {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...JSON.parse(readFileSync(example, 'utf8')), slo: { scale: 0 } }));
    const r = run(bad);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /slo\.scale/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    assert.equal(run(join(dir, 'missing.json')).status, 1);
    assert.equal(run(example, '--policy', 'random').status, 2);
    assert.equal(run().status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
