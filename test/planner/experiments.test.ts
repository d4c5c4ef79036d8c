// Experiment pieces: the 99% headline maths, the SVG writer, every experiment's quick mode.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXPERIMENTS, experiment } from '../../planner/experiments/definitions.js';
import { formatRatio, formatThreshold, threshold } from '../../planner/experiments/headline.js';
import { type ExperimentRow, experimentSvg, rowsFromCsv, runExperiment } from '../../planner/experiments/run.js';
import { lineChartSvg, logTicks, niceTicks, seriesStyle } from '../../planner/experiments/svg-plot.js';
import { evaluatePlacement, placeByName } from '../../planner/placement/index.js';

test('99% threshold: interpolated crossing, or a bound when outside the sweep', () => {
  // rising (devices): crosses between 16 (0.95) and 24 (0.995)
  const t = threshold(
    [
      [8, 0.5],
      [16, 0.95],
      [24, 0.995],
      [32, 1],
    ],
    'rising',
  )!;
  assert.equal(t.bound, 'exact');
  assert.ok(Math.abs(t.x - (16 + (0.04 / 0.045) * 8)) < 1e-9);
  assert.deepEqual(
    threshold(
      [
        [8, 0.5],
        [16, 0.9],
      ],
      'rising',
    ),
    { x: 16, bound: 'above' },
  );
  assert.deepEqual(
    threshold(
      [
        [8, 0.995],
        [16, 1],
      ],
      'rising',
    ),
    { x: 8, bound: 'below' },
  );
  // falling (rate): still ≥ 99% at 2, not at 4
  const f = threshold(
    [
      [1, 1],
      [2, 0.992],
      [4, 0.9],
    ],
    'falling',
  )!;
  assert.ok(f.bound === 'exact' && f.x > 2 && f.x < 4);
  assert.equal(formatThreshold({ x: 8, bound: 'above' }), '> 8');
  // AlpaServe reaches 99% up to rate 8, the baseline up to 2: 4× the rate
  assert.equal(formatRatio({ x: 8, bound: 'exact' }, { x: 2, bound: 'exact' }, 'falling'), '4.00×');
  // fewer devices: baseline never gets there within 64 → at least 64/40
  assert.equal(formatRatio({ x: 40, bound: 'exact' }, { x: 64, bound: 'above' }, 'rising'), '≥ 1.60×');
  assert.match(formatRatio({ x: 64, bound: 'above' }, { x: 64, bound: 'above' }, 'rising'), /n\/a/);
});

test('SVG plot: axes, ticks, legend, one path per series, escaped text', () => {
  const svg = lineChartSvg({
    title: 'a < b',
    xLabel: 'devices',
    yLabel: 'SLO attainment',
    series: [
      {
        name: 'AlpaServe',
        points: [
          [8, 0.5],
          [16, 0.9],
          [32, 1],
        ],
      },
      {
        name: 'SR & co',
        points: [
          [8, 0.2],
          [16, NaN],
          [32, 0.8],
        ],
      },
    ],
    yRange: [0, 1],
    yLine: 0.99,
  });
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok(svg.includes('>devices</text>') && svg.includes('>SLO attainment</text>'));
  assert.ok(svg.includes('>AlpaServe</text>') && svg.includes('>SR &amp; co</text>') && svg.includes('a &lt; b'));
  assert.equal((svg.match(/stroke-width="2"\/>/g) ?? []).length, 2 + 2, 'two series paths + two legend lines');
  // the NaN point breaks the second series' line into two moves
  assert.equal((svg.match(/<path d="M[^"]*M/g) ?? []).length, 1);
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(logTicks(0.02, 8), [0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5]);
  const log = lineChartSvg({
    title: 't',
    xLabel: 'x',
    yLabel: 'y',
    xLog: true,
    series: [
      {
        name: 's',
        points: [
          [0.1, 1],
          [1, 2],
          [10, 3],
        ],
      },
    ],
  });
  // equal ratios are equally spaced on a log axis
  const xs = [...log.matchAll(/<circle cx="([\d.]+)"/g)].map((m) => Number(m[1])).slice(0, 3);
  assert.ok(Math.abs(xs[1] - xs[0] - (xs[2] - xs[1])) < 0.01, `${xs}`);
});

test('SVG plot style: title and subtitle, legend inside the frame, the 99% line labelled, every series its own look', () => {
  const names = ['AlpaServe', 'Selective Replication', 'Clockwork++', 'adaptive', 'a fifth'];
  // Five systems, the last four identical: each must stay visible (own dash, own marker, own size).
  const svg = lineChartSvg({
    title: 'slo-s1-maf1: SLO attainment as the SLO loosens',
    subtitle: 'S1 (32× bert-1.3b), MAF1-like trace, 32 devices of 13 GiB',
    xLabel: 'SLO scale',
    yLabel: 'SLO attainment',
    series: names.map((name, i) => ({
      name,
      points: [
        [1, i === 0 ? 0.5 : 0.2],
        [5, 0.9],
        [10, 1],
      ],
    })),
    yRange: [0, 1],
    yLine: 0.99,
    yLineLabel: '99% of requests within their SLO',
  });
  assert.ok(svg.includes('>slo-s1-maf1: SLO attainment as the SLO loosens</text>'));
  assert.ok(svg.includes('>S1 (32× bert-1.3b), MAF1-like trace, 32 devices of 13 GiB</text>'));
  assert.ok(svg.includes('>99% of requests within their SLO</text>'));
  const [width] = [...svg.matchAll(/<svg [^>]*width="(\d+)"/g)].map((m) => Number(m[1]));
  const frame = /<rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)" fill="none" stroke="black"\/>/.exec(svg);
  assert.ok(frame, 'a frame');
  const [fx, fy, fw, fh] = frame.slice(1).map(Number);
  const box = /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="white" fill-opacity/.exec(svg);
  assert.ok(box, 'a legend box');
  const [bx, by, bw, bh] = box.slice(1).map(Number);
  assert.ok(
    bx >= fx && by >= fy && bx + bw <= fx + fw && by + bh <= fy + fh && fx + fw <= width,
    'legend inside the frame',
  );
  for (const name of names) {
    const x = Number(new RegExp(`<text x="([\\d.]+)" y="[\\d.]+">${name.replace(/\+/g, '\\+')}</text>`).exec(svg)?.[1]);
    assert.ok(x > bx && x + name.length * 6 < bx + bw + 1, `${name} inside the legend box`);
  }
  const looks = names.map((_, i) => seriesStyle(i));
  assert.equal(
    new Set(looks.map((l) => `${l.marker}/${l.dash}`)).size,
    names.length,
    'marker and dash differ per series',
  );
  assert.equal(new Set(looks.map((l) => l.dash)).size, names.length, 'dashes differ, so coinciding lines interleave');
  assert.ok(
    looks.slice(1, 4).every((l, i) => l.radius < looks[i].radius),
    'later markers are smaller: they show inside',
  );
});

test('re-plotting a recorded run: the CSV reads back into the same rows', async () => {
  const e = EXPERIMENTS.find((x) => x.name === 'motivation-slo')!;
  const out = await runExperiment(e, { quick: true });
  const rows = rowsFromCsv(out.csv);
  assert.equal(rows.length, out.rows.length);
  for (const [i, r] of rows.entries()) {
    const o = out.rows[i];
    assert.deepEqual(
      [r.x, r.system, r.attainment, r.requests, r.placement],
      [o.x, o.system, o.attainment, o.requests, o.placement],
    );
  }
  assert.equal(experimentSvg(e, rows, true), out.svg);
  const cw = rowsFromCsv(
    'experiment,x,system,attainment,mean_latency_s,p99_latency_s,requests,placement,simulations\nx,1,Clockwork++,0.5,,,10,"10 windows, first 8×(pp1,op1)",3\n',
  );
  assert.equal(cw[0].placement, '10 windows, first 8×(pp1,op1)');
  assert.ok(Number.isNaN(cw[0].meanLatency));
  assert.throws(() => rowsFromCsv('a,b\n1,2\n'), /not an experiment CSV/);
});

test('quick mode: every motivation sweep and one end-to-end sweep per axis yield consistent rows, CSV, SVG and headline', async () => {
  // (the other end-to-end sweeps differ only in model set and trace, covered below and by the CLI test)
  const chosen = EXPERIMENTS.filter(
    (e) =>
      e.group === 'motivation' || ['devices-s2-maf1', 'rate-s2-maf2', 'cv-s3-maf1', 'slo-s1-maf1'].includes(e.name),
  );
  assert.equal(chosen.length, 8);
  for (const e of chosen) {
    const out = await runExperiment(e, { quick: true });
    const systems = e.systems(true);
    assert.equal(out.rows.length, e.points(true).length * systems.length, e.name);
    for (const r of out.rows)
      assert.ok(r.attainment >= 0 && r.attainment <= 1 && r.requests > 0, `${e.name}: ${JSON.stringify(r)}`);
    assert.equal(out.csv.trim().split('\n').length, out.rows.length + 1);
    assert.ok(out.svg.includes('</svg>'));
    if (e.direction)
      assert.ok(
        out.headline.some((l) => l.includes('99% attainment')),
        e.name,
      );
  }
});

/** One system's attainment at sweep point x. */
function attainmentAt(rows: readonly ExperimentRow[], x: number, system: string): number {
  const row = rows.find((r) => r.x === x && r.system === system);
  assert.ok(row, `no row for ${system} at x=${x}`);
  return row.attainment;
}

test('end-to-end quick runs: AlpaServe never below Selective Replication at any point', async () => {
  for (const name of ['slo-s1-maf2', 'devices-s3-maf1']) {
    const out = await runExperiment(experiment(name), { quick: true });
    for (const x of new Set(out.rows.map((r) => r.x))) {
      const a = attainmentAt(out.rows, x, 'AlpaServe');
      const s = attainmentAt(out.rows, x, 'Selective Replication');
      // Scored on the same workload; evaluation trims nothing in quick mode.
      assert.ok(a >= s - 1e-4, `${name} x=${x}: AlpaServe ${a} < SR ${s}`);
    }
  }
});

test('S3, MAF2-like, 16 devices at full scale: adaptive AlpaServe above static AlpaServe and the zero-cost Clockwork++ oracle', async () => {
  // The target at the sweep's smallest point, as the experiment runs it (seed 1, fast
  // greedy): popularity reshuffles every 100 s, and adaptive AlpaServe, deciding from past traffic
  // only, paying its swaps and the work its changed groups drain, must still follow it. Its
  // schedule is scored with queues carried across windows, static AlpaServe in one run. (Quick
  // mode is too small for this: a window of it holds a few dozen requests.)
  const e = experiment('devices-s3-maf2');
  const { input, evaluation } = e.setup(16, false, 1);
  const systems = e.systems(false);
  const score = async (algorithm: string, options = {}) =>
    evaluatePlacement(await placeByName(algorithm, input, options), input.profiles, input.workload, evaluation)
      .attainment;
  const spec = (algorithm: string) => systems.find((s) => s.algorithm === algorithm && !s.options?.swapCost)!.options;
  const adaptive = await score('adaptive', { beam: 1, ...spec('adaptive') });
  const fixed = await score('alpaserve-greedy');
  const oracle = await score('clockwork++', spec('clockwork++'));
  assert.ok(adaptive > fixed && adaptive > oracle, `adaptive ${adaptive}, static ${fixed}, Clockwork++ ${oracle}`);
});
