import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { profilesToText } from '../../planner/profile.js';
import { buildScenario } from '../../planner/scenario.js';
import { simulate } from '../../planner/simulator.js';
import { zooProfile } from '../../planner/zoo.js';

// dist/test/planner → repository root
const example = JSON.parse(readFileSync(new URL('../../../examples/scenario.json', import.meta.url), 'utf8'));

function variant(change: (s: any) => void): unknown {
  const s = structuredClone(example);
  change(s);
  return s;
}

test('the example scenario builds and simulates', () => {
  const s = buildScenario(example);
  assert.equal(s.placement.groups.length, 3);
  assert.equal(s.cluster.memoryPerDevice, 13 * 2 ** 30);
  assert.equal(s.profiles.length, 6);
  // SLO scale 5 × bert-1.3b's 150.6 ms
  const m0 = s.workload.modelNames.indexOf('bert-1.3b-0');
  const i = s.workload.model.indexOf(m0);
  assert.ok(Math.abs(s.workload.slo[i] - 0.753) < 1e-12);
  const r = simulate(s.placement, s.profiles, s.workload, s.options);
  assert.ok(r.attainment > 0.5 && r.attainment <= 1);
});

test('scenario validation errors name the problem', () => {
  const cases: [(s: any) => void, RegExp][] = [
    [
      (s) => {
        s.workload.totlRate = 3;
      },
      /workload: Unrecognized key: "totlRate"/,
    ],
    [
      (s) => {
        delete s.workload.cv;
      },
      /needs "cv"/,
    ],
    [
      (s) => {
        s.groups[0].models.push('nope');
      },
      /groups\.0: unknown model "nope"/,
    ],
    [
      (s) => {
        s.models[0].zoo = 'gpt';
      },
      /unknown zoo model "gpt"/,
    ],
    [
      (s) => {
        s.groups[1].count = 5;
      },
      /groups use 14 devices but the cluster has 8/,
    ],
    [
      (s) => {
        s.cluster.memoryPerDeviceGiB = 1;
      },
      /groups\.0: models need 5\.\d\d GiB per device, over the 1\.00 GiB budget/,
    ],
    [
      (s) => {
        s.cluster.memoryPerDevice = 5;
      },
      /exactly one of "memoryPerDeviceGiB" or "memoryPerDevice"/,
    ],
    [
      (s) => {
        s.slo = { scale: -1 };
      },
      /slo\.scale/,
    ],
    [
      (s) => {
        s.sim.policy = 'x';
      },
      /sim\.policy/,
    ],
    [
      (s) => {
        s.workload.rates = [1, 2];
      },
      /exactly one of "totalRate".*or "rates"/,
    ],
    [
      (s) => {
        delete s.workload.totalRate;
        delete s.workload.split;
        s.workload.rates = [1, 2];
      },
      /workload\.rates: 2 rates for 6 models/,
    ],
    [
      (s) => {
        s.groups[0].devices = 3;
      },
      /groups\.0: devices 3 but config pp 4 × op 1 = 4/,
    ],
    [
      (s) => {
        s.models.push({ zoo: 'bert-1.3b', name: 'bert-1.3b', count: 4 });
      },
      /"bert-1\.3b-0" is defined twice/,
    ],
  ];
  for (const [change, message] of cases) assert.throws(() => buildScenario(variant(change)), message);
});

test('scenario workloads: Azure synthetic replay and absolute SLO', () => {
  const s = buildScenario(
    variant((x) => {
      x.workload = {
        azure: 'maf2',
        synthetic: { functions: 30, duration: 7200, totalRate: 1, seed: 2 },
        rateScale: 4,
        cvScale: 1,
        window: 1800,
        start: 0,
        duration: 7200,
        seed: 3,
      };
      x.slo = { seconds: 0.5 };
    }),
  );
  assert.equal(s.workload.duration, 7200);
  assert.ok(s.workload.arrival.length > 1000);
  assert.ok(s.workload.slo.every((v) => v === 0.5));
});

test('files a scenario names come through its ScenarioFiles, resolved against its folder (no I/O in the planner)', () => {
  const profile = zooProfile('bert-1.3b', 'custom');
  const texts = new Map([
    ['/data/s/profiles.json', profilesToText([profile])],
    ['/data/trace.csv', 'arrival,model,slo\n0.5,custom,1\n1.5,custom,\n'],
  ]);
  const asked: string[] = [];
  const files = {
    baseDir: '/data/s',
    read: (path: string) => {
      asked.push(path);
      const t = texts.get(path);
      if (t === undefined) throw new Error('no such file');
      return t;
    },
  };
  const json = variant((x) => {
    x.models = [{ profilesFile: 'profiles.json' }];
    x.groups = [{ config: { pp: 1, op: 1 }, models: ['custom'] }];
    x.workload = { trace: '../trace.csv' };
    delete x.slo;
  });
  const s = buildScenario(json, files);
  assert.deepEqual(asked, ['/data/s/profiles.json', '/data/trace.csv']);
  assert.deepEqual(s.profiles, [profile]);
  assert.deepEqual(Array.from(s.workload.arrival), [0.5, 1.5]);
  assert.deepEqual(Array.from(s.workload.slo), [1, Infinity]);
  // A missing file names the path; a scenario built without a reader says so.
  assert.throws(
    () =>
      buildScenario(
        variant((x) => {
          x.workload = { trace: 'nope.csv' };
        }),
        files,
      ),
    /cannot read trace \/data\/s\/nope\.csv: no such file/,
  );
  assert.throws(() => buildScenario(json), /no file reader was given to read .*profiles\.json/);
});
