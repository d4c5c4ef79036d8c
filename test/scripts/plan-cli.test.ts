// `meshserve place` and `meshserve plan` end to end: the placement file in the runtime's format
// and its prediction, the plan's JSON answer and files, the inverse question, an unreachable
// target, and each kind of bad input (exit 1, one line).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadPlacementFile } from '../../dev/placement-file.js';
import { defaultPlanSystems } from '../../planner/capacity/plan-file.js';
import { zooProfile } from '../../planner/zoo.js';

import { ROOT } from '../helpers/cli.js';

const cli = join(ROOT, 'dist/scripts/meshserve.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
const example = (name: string) => join(ROOT, 'examples', name);

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'plan-cli-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A plan file in the test folder (traffic and profiles those of the example, by absolute path). */
function planFile(name: string, changes: Record<string, unknown>): string {
  const plan = {
    ...JSON.parse(readFileSync(example('plan.json'), 'utf8')),
    models: [{ profilesFile: example('plan-profiles.json') }],
    traffic: { trace: example('trace.csv') },
    ...changes,
  };
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(plan));
  return path;
}

/** Exit 1 and one line `meshserve plan: <reason>` matching `reason`. */
function failsWith(r: ReturnType<typeof run>, command: string, reason: RegExp): void {
  assert.equal(r.status, 1, `exit 1; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  const last = lines[lines.length - 1];
  assert.match(last, new RegExp(`^meshserve ${command}: `));
  assert.match(last, reason);
  assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
}

describe('meshserve place', () => {
  test('writes a runtime placement whose groups simulate to the attainment it predicts', () => {
    const out = join(dir, 'placement.json');
    const r = run('place', example('scenario.json'), '--algorithm', 'alpaserve-greedy', '--out', out, '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /placing 6 models on 8 devices with alpaserve-greedy/);
    const printed = JSON.parse(r.stdout);
    assert.equal(printed.algorithm, 'alpaserve-greedy');
    assert.equal(printed.perModel.length, 6);
    const file = loadPlacementFile(out);
    assert.equal(file.strategy, 'alpaserve-greedy');
    assert.deepEqual(
      file.groups.map((g) => ({ config: g.config, models: g.models })),
      printed.groups,
    );
    assert.deepEqual(file.groups[0].devices[0], ['gpu-0']);
    // The same groups written as a scenario and simulated give the predicted attainment.
    const scenario = JSON.parse(readFileSync(example('scenario.json'), 'utf8'));
    scenario.groups = printed.groups;
    const again = join(dir, 'placed-scenario.json');
    writeFileSync(again, JSON.stringify(scenario));
    const sim = run('simulate', again, '--json');
    assert.equal(sim.status, 0, sim.stderr);
    assert.equal(JSON.parse(sim.stdout).attainment, printed.attainment);
  });

  test('--window sets how often a re-placing algorithm re-places; a bad one is a usage error', () => {
    const r = run(
      'place',
      example('scenario.json'),
      '--algorithm',
      'clockwork++',
      '--window',
      '120',
      '--out',
      join(dir, 'cw.json'),
      '--json',
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).windows, 5, "the scenario's 600 s in windows of 120 s");
    const notWindowed = run('place', example('scenario.json'), '--window', '10');
    failsWith(notWindowed, 'place', /--window applies to clockwork\+\+ and adaptive, not to alpaserve$/);
    // Options an algorithm would ignore are refused as well, not dropped in silence.
    const noBeam = run('place', example('scenario.json'), '--algorithm', 'selective-replication', '--beam', '3');
    failsWith(noBeam, 'place', /--beam applies to alpaserve and adaptive, not to selective-replication$/);
    const noDeparture = run('place', example('scenario.json'), '--departure-loads', '2');
    failsWith(noDeparture, 'place', /--departure-loads applies to adaptive, not to alpaserve$/);
    const belowOne = run('place', example('scenario.json'), '--algorithm', 'adaptive', '--departure-loads', '0.5');
    assert.equal(belowOne.status, 2);
    assert.match(belowOne.stderr, /'--departure-loads <n>' argument '0\.5' is invalid\. must be a number ≥ 1/);
    const bad = run('place', example('scenario.json'), '--window', '0');
    assert.equal(bad.status, 2);
    assert.match(
      bad.stderr,
      /^meshserve place: option '--window <s>' argument '0' is invalid\. must be a positive number/,
    );
  });

  test('adaptive: the windows of its online replay and its switches are reported', () => {
    const args = ['place', example('scenario.json'), '--algorithm', 'adaptive', '--beam', '1', '--window', '60'];
    const r = run(...args, '--out', join(dir, 'adaptive.json'), '--json');
    assert.equal(r.status, 0, r.stderr);
    const printed = JSON.parse(r.stdout);
    assert.equal(printed.windows, 10);
    assert.ok(Number.isInteger(printed.switches) && printed.switches < 10, `switches ${printed.switches}`);
    const text = run(...args, '--out', join(dir, 'adaptive.json'));
    assert.match(text.stdout, new RegExp(`re-placed online every 60 s .*: ${printed.switches} switches in 10 windows`));
  });

  test('an unknown algorithm is a usage error with "did you mean"', () => {
    const r = run('place', example('scenario.json'), '--algorithm', 'alpaserv');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^meshserve place: .*unknown algorithm "alpaserv"; did you mean "alpaserve"/);
  });
});

describe('meshserve plan', () => {
  test('--json: the fewest devices per system, its curve and placement; files written', () => {
    const out = join(dir, 'out');
    const r = run('plan', example('plan.json'), '--json', '--out', out);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /planning 4 models, 1\.\.8 devices/);
    const answer = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(answer), ['target', 'systems']);
    assert.equal(answer.target, 0.99);
    // Every algorithm of the registry that places by traffic (AlpaServe once), adaptive among them.
    assert.deepEqual(
      answer.systems.map((s: { name: string }) => s.name),
      defaultPlanSystems(false),
    );
    assert.ok(answer.systems.some((s: { name: string }) => s.name === 'adaptive'));
    for (const s of answer.systems) {
      assert.deepEqual(Object.keys(s), ['name', 'devices', 'attainment', 'placement', 'curve']);
      assert.equal(typeof s.devices, 'number', `${s.name} reaches the target in 1..8`);
      assert.ok(s.attainment >= 0.99);
      const counts = s.curve.map((p: number[]) => p[0]);
      assert.deepEqual(
        counts,
        [...counts].sort((a: number, b: number) => a - b),
      );
      const below = s.curve.filter((p: number[]) => p[0] < s.devices);
      assert.ok(below.length > 0, 'the curve shows counts below the answer');
      for (const [, a] of below) assert.ok(a < 0.99, `${s.name}: fewer devices stay under the target`);
      assert.equal(loadPlacementFile(s.placement).groups.length > 0, true);
    }
    for (const f of ['plan.svg', 'plan.csv', 'alpaserve.scenario.json']) assert.ok(existsSync(join(out, f)), f);
    assert.match(readFileSync(join(out, 'plan.svg'), 'utf8'), /<svg[\s\S]*alpaserve/);
    // The scenario written for a system places and replays as it is.
    const placed = run('place', join(out, 'alpaserve.scenario.json'), '--out', join(dir, 'p.json'), '--json');
    assert.equal(placed.status, 0, placed.stderr);
  });

  test("a model repository: its imported profiles, and each model's own SLO", () => {
    const repo = join(dir, 'repo');
    for (const name of ['m1', 'm2']) {
      mkdirSync(join(repo, name), { recursive: true });
      writeFileSync(join(repo, name, 'model.onnx'), '');
      writeFileSync(join(repo, name, 'meshserve.json'), JSON.stringify({ slo: name === 'm1' ? 0.6 : 0.9 }));
    }
    const path = join(dir, 'repo-plan.json');
    const plan = {
      models: [{ repository: 'repo' }],
      traffic: { process: 'poisson', rates: [3, 2], duration: 60 },
      devices: { memoryGiB: 13, max: 4 },
    };
    writeFileSync(path, JSON.stringify(plan));
    failsWith(
      run('plan', path, '--out', join(dir, 'repo-out')),
      'plan',
      /model "m1" in .*repo has no readable m1\/profile\.json: run `meshserve import`/,
    );
    for (const name of ['m1', 'm2'])
      writeFileSync(join(repo, name, 'profile.json'), JSON.stringify([zooProfile('bert-1.3b', name)]));
    const out = join(dir, 'repo-out');
    const r = run('plan', path, '--json', '--out', out);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(typeof JSON.parse(r.stdout).systems[0].devices, 'number');
    const scenario = JSON.parse(readFileSync(join(out, 'alpaserve.scenario.json'), 'utf8'));
    assert.deepEqual(scenario.slo.perModel, { m1: 0.6, m2: 0.9 });
  });

  test('an unreachable target is no error: null devices, the best attainment, said in the text', () => {
    const path = planFile('tight.json', { devices: { memoryGiB: 13, min: 1, max: 2 } });
    const json = run('plan', path, '--json', '--out', join(dir, 'tight'));
    assert.equal(json.status, 0, json.stderr);
    const best = JSON.parse(json.stdout).systems[0];
    assert.equal(best.devices, null);
    assert.equal(best.attainment, Math.max(...best.curve.map((p: number[]) => p[1])));
    const text = run('plan', path, '--out', join(dir, 'tight'));
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /alpaserve: the target is not reached in 1\.\.2 devices; the best is \d+\.\d+% at 2/);
  });

  test('--at N: attainment and rate headroom at N devices', () => {
    const r = run('plan', example('plan.json'), '--json', '--out', join(dir, 'at'), '--at', '8');
    assert.equal(r.status, 0, r.stderr);
    const at = JSON.parse(r.stdout).at;
    assert.equal(at[0].devices, 8);
    assert.ok(at[0].attainment >= 0.99);
    assert.ok(at[0].rateHeadroom > 1, `8 devices take more than the trace's rate (${at[0].rateHeadroom})`);
    assert.equal(at[0].cvHeadroom, null, 'a recorded trace has no CV to scale');
    const oracle = at.find((a: { name: string }) => a.name === 'clockwork++');
    assert.equal(oracle.rateHeadroom, null, 'an oracle placed on the traffic itself has no headroom to report');
  });

  test('bad input exits 1 with a one-line reason', () => {
    // Output into the test folder, should one of them not fail.
    const plan = (path: string) => run('plan', path, '--out', join(dir, 'bad'));
    failsWith(
      plan(planFile('zoo.json', { models: [{ zoo: 'bert-1.3', count: 2 }] })),
      'plan',
      /unknown zoo model "bert-1\.3"; did you mean "bert-1\.3b"/,
    );
    failsWith(
      plan(planFile('system.json', { systems: ['alpaserv'] })),
      'plan',
      /unknown system "alpaserv"; did you mean "alpaserve"/,
    );
    const huge = zooProfile('bert-103.5b', 'big');
    const big = { ...huge, configs: { 'pp1-op1': huge.configs['pp1-op1'], 'pp2-op1': huge.configs['pp2-op1'] } };
    const profiles = join(dir, 'big-profiles.json');
    writeFileSync(profiles, JSON.stringify([big]));
    failsWith(
      plan(planFile('big.json', { models: [{ zoo: 'bert-1.3b' }, { profilesFile: profiles }] })),
      'plan',
      /model "big": no config fits 13\.00 GiB per device within 8 devices; it needs at least [\d.]+ GiB per device \(pp2-op1\)/,
    );
    failsWith(
      plan(planFile('none.json', { devices: { memoryGiB: 0.2, min: 1, max: 8 } })),
      'plan',
      /no model fits on any device of 0\.20 GiB within 8 devices: "summarise" needs at least/,
    );
    const trace = join(dir, 'bad-trace.csv');
    writeFileSync(trace, 'arrival,model,slo\n0.1,summarise,\n0.2,translate,\nsoon,classify,\n');
    failsWith(plan(planFile('trace.json', { traffic: { trace } })), 'plan', /line 4: arrival must be a number/);
    const maf2 = join(dir, 'bad-maf2.csv');
    writeFileSync(maf2, 'app,func,end_timestamp,duration\na,f,10,0.5\na,g,eleven,0.5\n');
    failsWith(
      plan(planFile('maf2.json', { traffic: { azure: 'maf2', file: maf2, rateScale: 1, cvScale: 1 } })),
      'plan',
      /line 3: bad end_timestamp\/duration "eleven"/,
    );
    failsWith(
      plan(planFile('range.json', { devices: { memoryGiB: 13, min: 8, max: 4 } })),
      'plan',
      /devices: the range 8\.\.4 is empty/,
    );
    failsWith(
      plan(planFile('pow.json', { devices: { memoryGiB: 13, min: 5, max: 7, powersOfTwo: true } })),
      'plan',
      /the range 5\.\.7 \(powers of two\) is empty/,
    );
  });
});
