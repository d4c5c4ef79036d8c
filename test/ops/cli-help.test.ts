// Every registered subcommand answers --help with exit 0; unknown commands are usage errors (2).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { subcommandsFromHelp } from './compose-reader.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'dist/scripts/meshserve.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

test('meshserve <sub> --help exits 0 for every subcommand; an unknown one exits 2', () => {
  const top = run('--help');
  assert.equal(top.status, 0);
  const subs = [...subcommandsFromHelp(top.stdout)].filter((s) => s !== 'help');
  for (const required of ['repl', 'status']) assert.ok(subs.includes(required), `${required} is registered`);
  for (const sub of subs) {
    const r = run(sub, '--help');
    assert.equal(r.status, 0, `${sub} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: meshserve ${sub}\\b`), sub);
  }
  const unknown = run('no-such-command');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command/);
});
