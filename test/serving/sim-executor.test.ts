// The simulated device: exactly the profiled time, on an absolute timeline (no drift).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nowSeconds } from '../../serving/clock.js';
import { SimExecutor } from '../../serving/executors/sim.js';

describe('simulated device', () => {
  it('queued jobs finish at start + k × stage time, and return about then (slack for a loaded machine)', async () => {
    const device = new SimExecutor();
    await device.load({
      key: 'g/0/0',
      version: 1,
      group: 'g',
      stage: 0,
      shard: 0,
      pp: 1,
      op: 1,
      models: [{ name: 'm', seconds: 0.02 }],
    });
    const t0 = nowSeconds();
    const results = [];
    // One at a time, as the worker runs them; all arrived at t0.
    for (let k = 0; k < 10; k++) {
      const r = await device.run({ assignment: 'g/0/0', model: 'm', input: k, receivedAt: t0 });
      results.push({ ...r, returned: nowSeconds() });
    }
    results.forEach((r, k) => {
      assert.equal(r.output, k);
      assert.ok(Math.abs(r.start - (t0 + 0.02 * k)) < 1e-6, `job ${k} starts when the previous one finished`);
      assert.ok(Math.abs(r.finish - (t0 + 0.02 * (k + 1))) < 1e-6, 'no drift: the timeline is absolute');
      assert.ok(
        r.returned - r.finish < 0.02,
        `job ${k} returned ${((r.returned - r.finish) * 1e3).toFixed(2)} ms after its finish`,
      );
    });
  });

  it('a job cannot start before it arrived, and unknown stages or models fail', async () => {
    const device = new SimExecutor();
    await device.load({
      key: 's',
      version: 1,
      group: 'g',
      stage: 0,
      shard: 0,
      pp: 1,
      op: 1,
      models: [{ name: 'm', seconds: 0.001 }],
    });
    const later = nowSeconds() + 0.01;
    const r = await device.run({ assignment: 's', model: 'm', input: null, receivedAt: later });
    assert.equal(r.start, later);
    await assert.rejects(
      device.run({ assignment: 's', model: 'x', input: null, receivedAt: 0 }),
      /model "x" is not loaded/,
    );
    await device.unload('s');
    await assert.rejects(
      device.run({ assignment: 's', model: 'm', input: null, receivedAt: 0 }),
      /stage s is not loaded/,
    );
  });

  it("a stage takes back the upstream stage's timer lateness, not more; only last or sharded stages wait precisely", async () => {
    const middle = new SimExecutor();
    await middle.load({
      key: 'g/1/0',
      version: 1,
      group: 'g',
      stage: 1,
      shard: 0,
      pp: 3,
      op: 1,
      models: [{ name: 'm', seconds: 0.01 }],
    });
    const now = nowSeconds();
    const r = await middle.run({ assignment: 'g/1/0', model: 'm', input: null, receivedAt: now, upstreamLate: 0.003 });
    assert.ok(Math.abs(r.start - (now - 0.003)) < 1e-9, 'starts when the activation was ready upstream');
    assert.ok(Math.abs(r.finish - (now + 0.007)) < 1e-9);
    // The next job queues behind it on the device's timeline, lateness or not.
    const r2 = await middle.run({ assignment: 'g/1/0', model: 'm', input: null, receivedAt: now, upstreamLate: 0.5 });
    assert.ok(Math.abs(r2.start - r.finish) < 1e-9, 'never before the device is free');
    // The last stage of a pipeline returns within a fraction of a millisecond of its finish.
    const last = new SimExecutor();
    await last.load({
      key: 'g/2/0',
      version: 1,
      group: 'g',
      stage: 2,
      shard: 0,
      pp: 3,
      op: 1,
      models: [{ name: 'm', seconds: 0.02 }],
    });
    const lags: number[] = [];
    for (let k = 0; k < 5; k++) {
      const x = await last.run({ assignment: 'g/2/0', model: 'm', input: null, receivedAt: nowSeconds() });
      lags.push(nowSeconds() - x.finish);
    }
    lags.sort((a, b) => a - b);
    assert.ok(lags[2] < 0.001, `median return lag ${(lags[2] * 1e3).toFixed(2)} ms after the finish`);
  });
});
