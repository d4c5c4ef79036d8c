// `meshserve bench` and `npm run bench`'s entry: suites listed in help, a small real run,
// unknown suites rejected with exit 2 before anything runs.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SUITES } from '../../bench/suites.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const meshserve = (...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'dist/scripts/meshserve.js'), 'bench', ...args], {
    encoding: 'utf8',
    cwd: root,
  });
const benchEntry = (...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'dist/scripts/bench.js'), ...args], { encoding: 'utf8', cwd: root });

test('bench --help lists every suite', () => {
  for (const r of [meshserve('--help'), benchEntry('--help')]) {
    assert.equal(r.status, 0, r.stderr);
    for (const name of Object.keys(SUITES)) assert.match(r.stdout, new RegExp(`^  ${name} `, 'm'));
  }
});

test('bench simulator runs a small scenario with its options', () => {
  const r = meshserve('simulator', '--requests=2000', '--reps=1');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /== bench simulator/);
  assert.match(r.stdout, /2000 requests/);
  assert.match(r.stdout, /earliest-finish\s+median [\d.]+ ms/);
});

test('bench: an unknown suite exits 2 and names the known ones, nothing runs', () => {
  for (const r of [meshserve('simulator', 'nope'), benchEntry('nope', '--runs=1')]) {
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown bench suite "nope"; known: bus, simulator/);
    assert.doesNotMatch(r.stdout, /== bench/);
  }
});
