import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeTime, isValid } from 'ulid';
import { newId } from '../../bus/index.js';

test('newId: valid ULIDs, unique, stamped with the current time', () => {
  const before = Date.now();
  const ids = Array.from({ length: 20_000 }, () => newId());
  const after = Date.now();
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) {
    assert.ok(isValid(id), id);
    const t = decodeTime(id);
    assert.ok(t >= before && t <= after, `${id}: time ${t} outside [${before}, ${after}]`);
  }
});

test('newId: every random character position uses the whole base-32 alphabet evenly', () => {
  const n = 32_000;
  const counts = Array.from({ length: 16 }, () => new Map<string, number>());
  for (let i = 0; i < n; i++) {
    const random = newId().slice(10);
    for (let p = 0; p < 16; p++) counts[p].set(random[p], (counts[p].get(random[p]) ?? 0) + 1);
  }
  for (const [p, c] of counts.entries()) {
    assert.equal(c.size, 32, `position ${p}: ${c.size} distinct characters`);
    // 1,000 expected per character; 6 standard deviations (≈ 190) either side.
    for (const [ch, k] of c) assert.ok(Math.abs(k - n / 32) < 190, `position ${p}: '${ch}' drawn ${k} times`);
  }
});
