// The CLI's small print: every error line is `meshserve <command>: <reason>`; unknown names get
// "did you mean"; an unknown --strategy is a usage error (2) before anything starts; `--help`
// needs no build (`npm start -- --help`); the bin stays executable after a clean build; our npm
// configuration prints no warnings and the engines field holds for every dependency.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import semver from 'semver';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'dist/scripts/meshserve.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });

/** Every line on stderr is an error line of `command` (commander adds a hint line after usage errors). */
function errorLines(stderr: string, command: string): string[] {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => l !== '(add --help for usage)');
  for (const line of lines) assert.match(line, new RegExp(`^meshserve ${command}: \\S`), `error line: ${line}`);
  return lines;
}

test('unknown experiment names: usage error with "did you mean"', () => {
  const r = run('experiment', 'rate-s1-maf3', 'slo-s9');
  assert.equal(r.status, 2);
  const lines = errorLines(r.stderr, 'experiment');
  assert.match(lines[0], /unknown experiment "rate-s1-maf3"; did you mean "rate-s1-maf1", "rate-s1-maf2"/);
  assert.match(lines[1], /unknown experiment "slo-s9"/);
});

test('an unknown --strategy is a usage error before anything starts', () => {
  for (const command of ['start', 'planner']) {
    const started = Date.now();
    const r = run(command, '--strategy', 'alpaserv');
    assert.equal(r.status, 2, r.stderr);
    assert.match(errorLines(r.stderr, command)[0], /unknown strategy "alpaserv"; did you mean "alpaserve"/);
    assert.equal(r.stdout, '', 'nothing started');
    assert.ok(Date.now() - started < 10_000);
  }
});

test("the planner's adaptive options are refused before anything starts, with another strategy", () => {
  const other = run('planner', '--departure-loads', '2');
  assert.equal(other.status, 1, other.stderr);
  assert.match(
    errorLines(other.stderr, 'planner')[0],
    /--departure-loads and --load-bandwidth apply to --strategy adaptive, not to alpaserve$/,
  );
  // start names the strategy it would run: the demo's groups on 8 workers are static.
  const demo = run('start', '--load-bandwidth', '2e10');
  assert.equal(demo.status, 1, demo.stderr);
  assert.match(errorLines(demo.stderr, 'start')[0], /apply to --strategy adaptive, not to static$/);
  const unused = run('planner', '--strategy', 'adaptive', '--departure-loads', '2', '--rate-check-sec', '0');
  assert.equal(unused.status, 1, unused.stderr);
  assert.match(errorLines(unused.stderr, 'planner')[0], /act at rate checks, which --rate-check-sec 0 turns off$/);
  const bad = run('planner', '--strategy', 'adaptive', '--load-bandwidth', '0');
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(errorLines(bad.stderr, 'planner')[0], /must be a positive number/);
  assert.equal(other.stdout + demo.stdout + unused.stdout + bad.stdout, '', 'nothing started');
});

test('failures and usage errors of other commands read the same', () => {
  const missing = run('simulate', '/nonexistent/scenario.json');
  assert.equal(missing.status, 1);
  errorLines(missing.stderr, 'simulate');
  const option = run('start', '--workers', 'many');
  assert.equal(option.status, 2);
  assert.match(errorLines(option.stderr, 'start')[0], /must be a positive integer/);
  const input = run('infer', 'm', '{not json');
  assert.equal(input.status, 2);
  assert.match(errorLines(input.stderr, 'infer')[0], /the input is not JSON/);
  const unknown = run('no-such-command');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /^meshserve: unknown command 'no-such-command'/);
  const noName = run('experiment');
  assert.equal(noName.status, 2);
  errorLines(noName.stderr, 'experiment');
});

test('npm start -- --help answers without building; the bin is executable after a clean build', () => {
  const before = statSync(cli).mtimeMs;
  const started = Date.now();
  const help = spawnSync(process.execPath, [join(root, 'scripts/start.mjs'), '--help'], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^Usage: meshserve start/);
  assert.equal(statSync(cli).mtimeMs, before, 'dist/ untouched');
  assert.ok(Date.now() - started < 10_000);
  // `npm test` wipes and rebuilds dist/ before this runs: the build keeps the bin executable.
  accessSync(cli, constants.X_OK);
  const direct = spawnSync(cli, ['--help'], { encoding: 'utf8' });
  assert.equal(direct.status, 0, direct.stderr);
  assert.match(direct.stdout, /^Usage: meshserve/);
});

test('npm prints no warning about our configuration, and engines.node holds for every dependency', () => {
  const npm = spawnSync('npm', ['config', 'list'], { cwd: root, encoding: 'utf8' });
  assert.equal(npm.status, 0);
  assert.doesNotMatch(npm.stderr, /Unknown (project|user) config/, npm.stderr);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const ours: string = pkg.engines.node;
  const broken = Object.entries(lock.packages as Record<string, { engines?: { node?: string } }>)
    .filter(([path, p]) => path && p.engines?.node && !semver.subset(ours, p.engines.node))
    .map(([path, p]) => `${path} needs node ${p.engines?.node}`);
  assert.deepEqual(broken, [], `we claim node ${ours}`);
  // The offline install: onnxruntime-node's install script (a CUDA download) is denied, not skipped by an unknown key.
  assert.equal(pkg.allowScripts['onnxruntime-node'], false);
  // Every install script is decided (allowed or denied), so npm has nothing to warn about.
  const undecided = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>)
    .filter(([path, p]) => path && p.hasInstallScript)
    .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length))
    .filter((name) => !(name in pkg.allowScripts));
  assert.deepEqual(undecided, []);
  assert.doesNotMatch(readFileSync(join(root, '.npmrc'), 'utf8'), /onnxruntime/);
});
