// The reference simulator's semantics (docs/alpaserve.md, "The reference simulator") on small hand-computed examples.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulate } from '../../planner/simulator.js';
import type { Placement } from '../../planner/types.js';
import { rows, toyProfile } from './helpers.js';

const ref = { policy: 'last-stage-clock', stagePenalty: 0.009, overhead: 0.011, records: true } as const;
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test('a lone request takes Σ penalised stages + 11 ms, penalty also at pp = 1', () => {
  const a = toyProfile('a', { 'pp1-op1': [0.1], 'pp2-op1': [0.06, 0.05] });
  const one: Placement = { groups: [{ devices: 1, config: { pp: 1, op: 1 }, models: ['a'] }] };
  const r1 = simulate(one, [a], rows(['a'], [[0, 0, Infinity]]), ref);
  close(r1.records!.finish[0], 0.1 * 1.009 + 0.011);
  const two: Placement = { groups: [{ devices: 2, config: { pp: 2, op: 1 }, models: ['a'] }] };
  const r2 = simulate(two, [a], rows(['a'], [[1, 0, Infinity]]), ref);
  close(r2.records!.finish[0], 1 + (0.06 + 0.05) * 1.018 + 0.011);
  close(r2.latency.mean, (0.06 + 0.05) * 1.018 + 0.011);
});

test('pipeline clocks: the second request waits only for the stage it needs', () => {
  const a = toyProfile('a', { 'pp2-op1': [0.1, 0.2] });
  const p: Placement = { groups: [{ devices: 2, config: { pp: 2, op: 1 }, models: ['a'] }] };
  const r = simulate(
    p,
    [a],
    rows(
      ['a'],
      [
        [0, 0, Infinity],
        [0, 0, Infinity],
      ],
    ),
    { ...ref, stagePenalty: 0, overhead: 0 },
  );
  // first: stage0 0..0.1, stage1 0.1..0.3; second: stage0 0.1..0.2, stage1 0.3..0.5
  close(r.records!.finish[0], 0.3);
  close(r.records!.start[1], 0.1);
  close(r.records!.finish[1], 0.5);
});

test('last-stage-clock picks the smallest last-stage clock, ties go to the first group', () => {
  const a = toyProfile('a', { 'pp1-op1': [1], 'pp2-op1': [0.1, 1] });
  const p: Placement = {
    groups: [
      { devices: 2, config: { pp: 2, op: 1 }, models: ['a'] },
      { devices: 1, config: { pp: 1, op: 1 }, models: ['a'] },
    ],
  };
  const opts = { ...ref, stagePenalty: 0, overhead: 0 };
  // t=0 tie (both 0) → group 0 (last clock 1.1). t=0.05: group 1 (0) < group 0 (1.1) → group 1 (clock 1.05).
  // t=0.2: group 0 last 1.1, group 1 1.05 → group 1 even though group 0's first stage is free.
  const r = simulate(
    p,
    [a],
    rows(
      ['a'],
      [
        [0, 0, Infinity],
        [0.05, 0, Infinity],
        [0.2, 0, Infinity],
      ],
    ),
    opts,
  );
  assert.deepEqual([...r.records!.group], [0, 1, 1]);
  close(r.records!.finish[2], 2.05);
  // earliest-finish looks at the whole pass: t=0 → group 1 (1.0 < 1.1); t=0.05 → group 0 (1.15 < 2.0);
  // t=0.2 → group 1 (2.0 < 2.15).
  const e = simulate(
    p,
    [a],
    rows(
      ['a'],
      [
        [0, 0, Infinity],
        [0.05, 0, Infinity],
        [0.2, 0, Infinity],
      ],
    ),
    { ...opts, policy: 'earliest-finish' },
  );
  assert.deepEqual([...e.records!.group], [1, 0, 1]);
});

test('earliest-finish can differ from last-stage-clock', () => {
  // group 0: two stages [0.5, 0.1]; group 1: one stage [0.3].
  const a = toyProfile('a', { 'pp1-op1': [0.3], 'pp2-op1': [0.5, 0.1] });
  const p: Placement = {
    groups: [
      { devices: 2, config: { pp: 2, op: 1 }, models: ['a'] },
      { devices: 1, config: { pp: 1, op: 1 }, models: ['a'] },
    ],
  };
  const opts = { records: true, stagePenalty: 0, overhead: 0 };
  const w = rows(
    ['a'],
    [
      [0, 0, Infinity],
      [0, 0, Infinity],
      [0.05, 0, Infinity],
    ],
  );
  // earliest-finish: r0 → g1 (0.3 < 0.6); r1 → g0 (0.6 < 0.6? no: g1 gives 0.6, g0 gives 0.6: tie →
  // g0); r2: g0 1.2 vs g1 0.6 → g1
  const e = simulate(p, [a], w, { ...opts, policy: 'earliest-finish' });
  assert.deepEqual([...e.records!.group], [1, 0, 1]);
  // last-stage-clock: r0 tie → g0 (0.6); r1 g1 (0 < 0.6) → 0.3; r2: g1 (0.3 < 0.6) → 0.6
  const l = simulate(p, [a], w, { ...opts, policy: 'last-stage-clock' });
  assert.deepEqual([...l.records!.group], [0, 1, 1]);
});

test('SLO early rejection: rejected on arrival, clocks untouched, never retried elsewhere', () => {
  const a = toyProfile('a', { 'pp1-op1': [0.1] });
  const p: Placement = {
    groups: [
      { devices: 1, config: { pp: 1, op: 1 }, models: ['a'] },
      { devices: 1, config: { pp: 1, op: 1 }, models: ['a'] },
    ],
  };
  const lat = 0.1 * 1.009 + 0.011; // 0.1119
  // r0 → g0 (tie). r1 at 0: g1 (0 < 0.1009) meets. r2 at 0.01 with SLO 0.15: last-stage choice g0
  // (0.1009 = 0.1009, tie → g0): finish 0.1009+0.1009+0.011-0.01 = 0.2028 > 0.15 → rejected. r3 at
  // 0.02, SLO lat: clocks unchanged by r2, so g0 and g1 both at 0.1009 → g0 → finish 0.2128 - 0.02 >
  // lat → rejected. r4 at 0.2 → g0 free again → served with latency lat.
  const w = rows(
    ['a'],
    [
      [0, 0, lat],
      [0, 0, lat],
      [0.01, 0, 0.15],
      [0.02, 0, lat],
      [0.2, 0, 2 * lat],
    ],
  );
  const r = simulate(p, [a], w, ref);
  assert.deepEqual([...r.records!.good], [1, 1, 0, 0, 1]);
  assert.deepEqual([...r.records!.group], [0, 1, 0, 0, 0]);
  assert.ok(Number.isNaN(r.records!.finish[2]));
  close(r.records!.finish[4], 0.2 + lat);
  assert.equal(r.rejected, 2);
  assert.equal(r.served, 3);
  assert.equal(r.attainment, 3 / 5);
});

test('a request exactly at its SLO is accepted (finish − t ≤ slo)', () => {
  const a = toyProfile('a', { 'pp1-op1': [0.25] });
  const p: Placement = { groups: [{ devices: 1, config: { pp: 1, op: 1 }, models: ['a'] }] };
  const r = simulate(p, [a], rows(['a'], [[0, 0, 0.5]]), { ...ref, stagePenalty: 0, overhead: 0.25 });
  assert.equal(r.good, 1);
  const s = simulate(p, [a], rows(['a'], [[0, 0, 0.4999]]), { ...ref, stagePenalty: 0, overhead: 0.25 });
  assert.equal(s.good, 0);
});

test('unknown or unplaced model → miss', () => {
  const a = toyProfile('a', { 'pp1-op1': [0.1] });
  const b = toyProfile('b', { 'pp1-op1': [0.1] });
  const p: Placement = { groups: [{ devices: 1, config: { pp: 1, op: 1 }, models: ['a'] }] };
  const r = simulate(
    p,
    [a, b],
    rows(
      ['a', 'b', 'ghost'],
      [
        [0, 0, 1],
        [0, 1, 1],
        [0, 2, 1],
      ],
    ),
    ref,
  );
  assert.equal(r.requests, 3);
  assert.equal(r.good, 1);
  assert.equal(r.unplaced, 2);
  assert.equal(r.rejected, 2);
  assert.deepEqual([...r.records!.group], [0, -1, -1]);
  assert.equal(r.perModel[2].attainment, 0);
});

test('admission margin rejects requests that would finish within the margin of the deadline', () => {
  const a = toyProfile('a', { 'pp1-op1': [0.1] });
  const p: Placement = { groups: [{ devices: 1, config: { pp: 1, op: 1 }, models: ['a'] }] };
  const w = rows(['a'], [[0, 0, 0.103]]);
  assert.equal(simulate(p, [a], w, { stagePenalty: 0, overhead: 0 }).good, 1);
  assert.equal(simulate(p, [a], w, { stagePenalty: 0, overhead: 0, admissionMargin: 0.005 }).good, 0);
});

test('fewest-inflight counts unfinished requests per group', () => {
  const a = toyProfile('a', { 'pp1-op1': [1] });
  const p: Placement = {
    groups: [
      { devices: 1, config: { pp: 1, op: 1 }, models: ['a'] },
      { devices: 1, config: { pp: 1, op: 1 }, models: ['a'] },
    ],
  };
  // t=0 → g0 (tie); t=0.1 → g1; t=0.2 → tie 1/1 → g0; t=1.5: g0 has 1 (finish 2), g1 has 0 (finished 1.1) → g1
  const w = rows(
    ['a'],
    [
      [0, 0, Infinity],
      [0.1, 0, Infinity],
      [0.2, 0, Infinity],
      [1.5, 0, Infinity],
    ],
  );
  const r = simulate(p, [a], w, { policy: 'fewest-inflight', stagePenalty: 0, overhead: 0, records: true });
  assert.deepEqual([...r.records!.group], [0, 1, 0, 1]);
});

test('invalid placements fail with a clear message', () => {
  const a = toyProfile('a', { 'pp1-op1': [0.1] });
  const w = rows(['a'], [[0, 0, 1]]);
  assert.throws(
    () => simulate({ groups: [{ devices: 2, config: { pp: 1, op: 1 }, models: ['a'] }] }, [a], w),
    /2 devices but config/,
  );
  assert.throws(
    () => simulate({ groups: [{ devices: 2, config: { pp: 2, op: 1 }, models: ['a'] }] }, [a], w),
    /no profile for pp 2, op 1/,
  );
  assert.throws(
    () => simulate({ groups: [{ devices: 1, config: { pp: 1, op: 1 }, models: ['zz'] }] }, [a], w),
    /no profile for model "zz"/,
  );
});

test('fewest-inflight keeps exact counts past its initial ring capacity', () => {
  const a = toyProfile('a', { 'pp1-op1': [1] });
  const p: Placement = {
    groups: [
      { devices: 1, config: { pp: 1, op: 1 }, models: ['a'] },
      { devices: 1, config: { pp: 1, op: 1 }, models: ['a'] },
      { devices: 1, config: { pp: 1, op: 1 }, models: ['a'] },
    ],
  };
  // 600 requests at once: round robin over the three groups (counts tie → first), 200 deep each;
  // then one request at t = 150.5 finds 50 / 50 / 50 left and goes to group 0.
  const burst: [number, number, number][] = Array.from({ length: 600 }, () => [0, 0, Infinity]);
  burst.push([150.5, 0, Infinity]);
  const r = simulate(p, [a], rows(['a'], burst), {
    policy: 'fewest-inflight',
    stagePenalty: 0,
    overhead: 0,
    records: true,
  });
  for (let i = 0; i < 600; i++) assert.equal(r.records!.group[i], i % 3);
  assert.equal(r.records!.group[600], 0);
  assert.equal(r.records!.finish[600], 201);
});
