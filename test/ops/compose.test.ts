// docker-compose.yml is valid for Debian's docker-compose 1.29 (no engine needed for `config`),
// and every meshserve service runs a subcommand, with options, that the CLI really has.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { optionsFromHelp, readComposeServices, subcommandsFromHelp } from './compose-reader.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'dist/scripts/meshserve.js');

function compose(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  // --profile tools: the on-demand services (repl, status, profile) are checked as well.
  const r = spawnSync('docker-compose', ['-f', join(root, 'docker-compose.yml'), '--profile', 'tools', ...args], {
    encoding: 'utf8',
    cwd: root,
    env: { ...process.env, COMPOSE_PROJECT_NAME: 'meshserve-test' },
  });
  if (r.error) assert.fail(`docker-compose not runnable (${r.error.message}); run scripts/ensure-servers.sh`);
  return r;
}

function help(...args: string[]): string {
  const r = spawnSync(process.execPath, [cli, ...args, '--help'], {
    encoding: 'utf8',
    env: { ...process.env, COLUMNS: '200' },
  });
  assert.equal(r.status, 0, `meshserve ${args.join(' ')} --help failed: ${r.stderr}`);
  return r.stdout;
}

test('docker-compose 1.29 accepts docker-compose.yml (config -q)', () => {
  const version = compose('version', '--short');
  assert.equal(version.status, 0, version.stderr);
  const r = compose('config', '-q');
  assert.equal(r.status, 0, r.stderr);
});

test('every meshserve service runs a registered subcommand with known options', () => {
  const r = compose('config');
  assert.equal(r.status, 0, r.stderr);
  const services = readComposeServices(r.stdout);
  assert.deepEqual(services.map((s) => s.name).sort(), [
    'dispatcher',
    'nats',
    'planner',
    'profile',
    'redis',
    'repl',
    'status',
    'worker',
  ]);
  const ours = services.filter((s) => s.built);
  assert.deepEqual(ours.map((s) => s.name).sort(), ['dispatcher', 'planner', 'profile', 'repl', 'status', 'worker']);
  const subcommands = subcommandsFromHelp(help());
  assert.ok(subcommands.has('simulate'), 'the help parser finds the existing subcommands');
  const problems: string[] = [];
  for (const service of ours) {
    const [sub, ...rest] = service.command;
    if (!sub || !subcommands.has(sub)) {
      problems.push(`${service.name}: "${sub}" is not a meshserve subcommand (have: ${[...subcommands].join(', ')})`);
      continue;
    }
    const known = optionsFromHelp(help(sub));
    for (const arg of rest)
      if (arg.startsWith('--') && !known.has(arg))
        problems.push(`${service.name}: meshserve ${sub} has no option ${arg}`);
  }
  assert.deepEqual(problems, []);
});

test('the compose reader reads block lists, quoted items and skips other keys', () => {
  const yaml =
    "services:\n  a:\n    command:\n    - worker\n    - '16'\n    image: x\n    environment:\n      K: v\n  b:\n    build:\n      context: .\n    command: status --json\nvolumes:\n  v: {}\n";
  assert.deepEqual(readComposeServices(yaml), [
    { name: 'a', image: 'x', built: false, command: ['worker', '16'], environment: { K: 'v' } },
    { name: 'b', image: undefined, built: true, command: ['status', '--json'], environment: {} },
  ]);
});
