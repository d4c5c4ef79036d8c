import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readTraceFile, writeTraceFile } from '../../dev/planner-files.js';
import { Rng } from '../../planner/rng.js';
import {
  maf1ToCsv,
  maf2ToCsv,
  parseMaf1Csv,
  parseMaf2Csv,
  replayMaf1,
  replayMaf2,
  syntheticMaf1,
  syntheticMaf2,
} from '../../planner/workload/azure.js';
import { digamma, fitGammaGaps } from '../../planner/workload/gamma-fit.js';
import { multiModelWorkload } from '../../planner/workload/multi-model.js';
import { workloadFromCsv, workloadFromJson } from '../../planner/workload/trace.js';

test('trace round trip through CSV and JSON files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trace-'));
  try {
    const w = multiModelWorkload({
      models: ['x', 'y', 'z'],
      totalRate: 20,
      cv: 2,
      duration: 30,
      seed: 4,
      slo: [0.5, 1, Infinity],
    });
    for (const file of ['t.csv', 't.json']) {
      writeTraceFile(join(dir, file), w);
      const back = readTraceFile(join(dir, file));
      assert.deepEqual(back.arrival, w.arrival, file);
      assert.deepEqual(back.slo, w.slo, file);
      assert.equal(back.duration, w.duration);
      assert.deepEqual(
        Array.from(back.model, (m) => back.modelNames[m]),
        Array.from(w.model, (m) => w.modelNames[m]),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('trace CSV: unsorted rows are sorted, slo optional, errors name the line', () => {
  const w = workloadFromCsv('# a comment\narrival,model\n2,b\n1,a\n1.5,b\n');
  assert.deepEqual([...w.arrival], [1, 1.5, 2]);
  assert.deepEqual(w.modelNames, ['b', 'a']);
  assert.deepEqual([...w.model], [1, 0, 0]);
  assert.ok(w.slo.every((s) => s === Infinity));
  assert.throws(() => workloadFromCsv('arrival,model,slo\n1,a,0.5\nx,a,1\n'), /line 3: arrival must be a number/);
  assert.throws(() => workloadFromCsv('time,name\n1,a\n'), /header must name the columns/);
  assert.throws(() => workloadFromCsv('arrival,model,slo\n1,a,-2\n'), /SLO must be a positive number/);
  assert.throws(
    () => workloadFromJson({ format: 'meshserve-trace/1', models: ['a'], arrival: [0], model: [3] }),
    /model\.0: index 3 but only 1 models/,
  );
});

test('digamma and the Gamma MLE fit', () => {
  assert.ok(Math.abs(digamma(1) + 0.5772156649015329) < 1e-10);
  assert.ok(Math.abs(digamma(0.5) - (-0.5772156649015329 - 2 * Math.LN2)) < 1e-10);
  const rng = new Rng(3);
  // (gaps are kept well above MIN_GAP, which would otherwise bias very small shapes)
  for (const shape of [0.5, 1, 4]) {
    const gaps = Float64Array.from({ length: 50_000 }, () => rng.gamma(shape) * 2);
    const fit = fitGammaGaps(gaps)!;
    assert.ok(Math.abs(fit.shape - shape) / shape < 0.05, `shape ${shape}: fitted ${fit.shape}`);
    assert.ok(Math.abs(fit.rate - 1 / (2 * shape)) / (1 / (2 * shape)) < 0.03);
  }
  assert.equal(fitGammaGaps([1]), undefined);
  assert.equal(fitGammaGaps([2, 2, 2]), undefined);
});

const MAF1_FIXTURE = [
  'HashOwner,HashApp,HashFunction,Trigger,1,2,3',
  'o1,a1,fA,http,60,0,120',
  'o1,a1,fB,timer,6,6,6',
  'o2,a2,fC,http,0,60,0',
].join('\n');

test('MAF1 reader and replay: function j → model j mod n, per-minute rates', () => {
  const mc = parseMaf1Csv(MAF1_FIXTURE);
  assert.deepEqual(mc.functions, ['fA', 'fB', 'fC']);
  assert.equal(mc.minutes, 3);
  assert.deepEqual([...mc.counts[0]], [60, 0, 120]);
  assert.throws(() => parseMaf1Csv('HashOwner,HashApp,HashFunction,Trigger,1,3\no,a,f,h,1,2'), /missing "2"/);
  assert.throws(() => parseMaf1Csv('HashOwner,HashApp,HashFunction,Trigger,1\no,a,f,h,-1'), /line 2: minute 1 count/);
  // The line number counts blank lines too: it is where an editor shows the bad line.
  assert.throws(
    () => parseMaf2Csv('app,func,end_timestamp,duration\n\na,f,1,0.5\na,f,x,0.5'),
    /line 4: bad end_timestamp/,
  );
  // two models: model 0 gets fA + fC = [60, 60, 120]/min, model 1 gets fB = 6/min.
  // Scale the rates up so the counts are large enough to check.
  const w = replayMaf1(mc, { models: ['m0', 'm1'], rateScale: 100, cvScale: 1, seed: 1 });
  assert.equal(w.duration, 180);
  const count = (m: number, from: number, to: number) =>
    w.model.filter((x, i) => x === m && w.arrival[i] >= from && w.arrival[i] < to).length;
  for (const [m, minute, expected] of [
    [0, 0, 6000],
    [0, 1, 6000],
    [0, 2, 12000],
    [1, 0, 600],
    [1, 2, 600],
  ] as const) {
    const got = count(m, minute * 60, minute * 60 + 60);
    assert.ok(Math.abs(got - expected) < 4 * Math.sqrt(expected), `model ${m} minute ${minute}: ${got} vs ${expected}`);
  }
  const windowed = replayMaf1(mc, { models: ['m0'], rateScale: 1, cvScale: 4, seed: 1, start: 60, duration: 120 });
  assert.equal(windowed.duration, 120);
  assert.throws(
    () => replayMaf1(mc, { models: ['m0'], rateScale: 1, cvScale: 1, seed: 1, window: 90 }),
    /multiple of 60/,
  );
});

test('MAF2 reader and replay: arrival = end − duration, fitted rates and burstiness', () => {
  const inv = parseMaf2Csv('app,func,end_timestamp,duration\na,f1,10.5,0.5\na,f2,3,1\na,f1,4,0\n');
  assert.deepEqual(inv.functions, ['f1', 'f2']);
  assert.deepEqual([...inv.arrival], [2, 4, 10]);
  assert.deepEqual([...inv.func], [1, 0, 0]);
  assert.throws(() => parseMaf2Csv('app,func,end\n'), /no "end_timestamp" column/);
  // A bursty synthetic trace, written and read back in the MAF2 format, then replayed.
  const synth = syntheticMaf2({ functions: 20, duration: 4 * 3600, totalRate: 5, phase: 3600, seed: 8 });
  const back = parseMaf2Csv(maf2ToCsv(synth));
  assert.equal(back.arrival.length, synth.arrival.length);
  const w = replayMaf2(back, { models: ['a', 'b', 'c', 'd'], rateScale: 2, cvScale: 1, window: 1800, seed: 2 });
  const ratio = w.arrival.length / (2 * synth.arrival.length);
  assert.ok(
    Math.abs(ratio - 1) < 0.15,
    `replayed ${w.arrival.length} requests for ${synth.arrival.length} invocations × 2`,
  );
  // Bursty input → fitted CV > 1 → replayed gaps far more variable than Poisson.
  const gaps: number[] = [];
  let prev = -1;
  for (let i = 0; i < w.arrival.length; i++)
    if (w.model[i] === 0) {
      if (prev >= 0) gaps.push(w.arrival[i] - prev);
      prev = w.arrival[i];
    }
  const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
  const cv = Math.sqrt(gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / gaps.length) / mean;
  assert.ok(cv > 1.3, `replayed CV ${cv}`);
});

test('synthetic traces: MAF1-like is dense and steady, MAF2-like is skewed and shifts', () => {
  const mc = syntheticMaf1({ functions: 50, minutes: 30, totalRate: 500, seed: 1 });
  const totals = Array.from({ length: 30 }, (_, k) => mc.counts.reduce((s, c) => s + c[k], 0));
  const mean = totals.reduce((a, b) => a + b, 0) / totals.length;
  assert.ok(Math.abs(mean / 60 - 500) / 500 < 0.2, `MAF1-like total rate ${mean / 60}`);
  assert.ok(Math.max(...totals) / Math.min(...totals) < 1.6, 'MAF1-like totals change slowly');
  assert.equal(parseMaf1Csv(maf1ToCsv(mc)).counts[7][3], mc.counts[7][3]);
  const inv = syntheticMaf2({ functions: 50, duration: 4 * 7200, totalRate: 2, seed: 3 });
  const share = (from: number, to: number) => {
    const c = new Array(50).fill(0);
    let n = 0;
    inv.arrival.forEach((t, i) => {
      if (t >= from && t < to) {
        c[inv.func[i]]++;
        n++;
      }
    });
    return c.map((x) => x / n);
  };
  const p0 = share(0, 7200);
  const p1 = share(7200, 14400);
  const top0 = p0.indexOf(Math.max(...p0));
  assert.ok(Math.max(...p0) > 0.2, 'MAF2-like: one function dominates a phase');
  assert.notEqual(p1.indexOf(Math.max(...p1)), top0, 'MAF2-like: the dominant function shifts');
});
