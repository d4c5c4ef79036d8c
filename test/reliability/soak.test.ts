// Load soak, bounded in time: the cluster (4 worker processes, one 20 ms model) at its saturation
// rate, then at twice that. Nothing is lost (each request id gets exactly one reply), overload is
// shed by early rejection (fast "rejected" replies, no timeout errors), and the memory of the
// dispatcher and the workers stays flat (heap, external and RSS over the supervisor's IPC channel:
// every second, and after a full GC — the processes run with --expose-gc — at the end of the
// warm-up, halfway and at the end).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProcessMemory } from '../../bus/index.js';
import { quantileSorted } from '../../planner/stats.js';
import { testProfile } from '../serving/helpers.js';
import {
  LoadClient,
  type ProcessCluster,
  type RequestRecord,
  sleep,
  startProcessCluster,
  statusCounts,
} from './helpers.js';

const LATENCY = 0.02;
const WORKERS = 4;
const SLO = 5 * LATENCY;
const PHASE_MS = 10_000;
const WARMUP_MS = 3_000;
const GRACE_MS = 2_000; // the dispatcher's default
const PROCESSES = ['dispatcher', ...Array.from({ length: WORKERS }, (_, i) => `gpu-${i}`)];
const MiB = 2 ** 20;
const signed = (x: number, digits: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;

describe('reliability: load soak at 1× and 2× the saturation rate', () => {
  let c: ProcessCluster;
  before(async () => {
    c = await startProcessCluster({
      workers: WORKERS,
      profiles: [testProfile('a', LATENCY, 8)],
      planner: { strategy: 'round-robin' },
      execArgv: ['--expose-gc'],
    });
  });
  after(() => c?.close());

  it('nothing lost, overload rejected early, memory flat', { timeout: 90_000 }, async (t) => {
    const saturation = WORKERS / LATENCY; // each device serves 1 / latency requests per second
    const load = new LoadClient(c.client, c.subjects, 'soak');
    t.after(() => load.close());
    const memory = (gc: boolean): Promise<ProcessMemory[]> =>
      Promise.all(PROCESSES.map((p) => c.child(p).memoryUsage({ gc })));
    // Idle, after a full GC: per field the least of three readings 200 ms apart (a transient buffer
    // still held at one reading is not growth; a leak shows in all three).
    const idleMemory = async (): Promise<ProcessMemory[]> => {
      const readings: ProcessMemory[][] = [];
      for (let k = 0; k < 3; k++, await sleep(200)) readings.push(await memory(true));
      return readings[0].map((m, i) => ({
        ...m,
        heapUsed: Math.min(...readings.map((r) => r[i].heapUsed)),
        external: Math.min(...readings.map((r) => r[i].external)),
        rss: Math.min(...readings.map((r) => r[i].rss)),
      }));
    };
    // Every second without a GC (a forced full GC pauses the process); with one at three points only.
    const perSecond: ProcessMemory[][] = [];
    let sampling = true;
    const sampler = (async () => {
      for (; sampling; await sleep(1_000)) perSecond.push(await memory(false));
    })();
    // Warm up at the highest rate (code gets compiled, maps and buffers reach their high-water
    // marks), then compare quiet states: nothing in flight.
    const warmup = new LoadClient(c.client, c.subjects, 'warmup');
    t.after(() => warmup.close());
    await warmup.paced(2 * saturation, WARMUP_MS, () => ({ model: 'a', slo: SLO }));
    await warmup.settle(SLO * 1000 + GRACE_MS, 200);
    const base = await idleMemory();
    const started = Date.now();
    await load.paced(saturation, PHASE_MS, () => ({ model: 'a', slo: SLO }));
    const doubledAt = Date.now();
    const mid = await memory(true);
    await load.paced(2 * saturation, PHASE_MS, () => ({ model: 'a', slo: SLO }));
    const endedAt = Date.now();
    await load.settle(SLO * 1000 + GRACE_MS + 1_000);
    const last = await idleMemory();
    sampling = false;
    await sampler;

    const all = [...load.records.values()];
    const phase1 = all.filter((r) => r.sentAt < doubledAt);
    const phase2 = all.filter((r) => r.sentAt >= doubledAt);
    const sorted = (xs: number[]): number[] => xs.sort((x, y) => x - y);
    const q = quantileSorted;
    const rejectedIn2 = phase2.filter((r) => r.replies[0]?.status === 'rejected');
    const rejectClientMs = sorted(rejectedIn2.map((r) => r.repliedAt! - r.sentAt));
    const rejectDispatcherMs = sorted(rejectedIn2.map((r) => r.replies[0].timings.total));
    const acceptedMs = sorted(all.filter((r) => r.replies[0]?.status === 'ok').map((r) => r.replies[0].timings.total));
    const okWithin = (records: RequestRecord[]): number =>
      records.filter((r) => r.replies[0]?.withinSlo).length /
      Math.max(1, records.filter((r) => r.replies[0]?.status === 'ok').length);
    const growth = PROCESSES.map((p, i) => ({
      p,
      heap: (last[i].heapUsed - base[i].heapUsed) / MiB,
      heapMid: (mid[i].heapUsed - base[i].heapUsed) / MiB,
      external: (last[i].external - base[i].external) / MiB,
      rss: (last[i].rss - base[i].rss) / MiB,
      rssLast: last[i].rss / MiB,
      heapMax: Math.max(...perSecond.map((s) => s[i].heapUsed)) / MiB,
      gc: base[i].gc && last[i].gc,
    }));
    console.log(
      `# soak: saturation ${saturation} req/s; 1× ${phase1.length} requests ${JSON.stringify(statusCounts(phase1))}, 2× ${phase2.length} requests ${JSON.stringify(statusCounts(phase2))} ` +
        `in ${((endedAt - started) / 1000).toFixed(1)} s; accepted within SLO 1× ${(okWithin(phase1) * 100).toFixed(1)}%, 2× ${(okWithin(phase2) * 100).toFixed(1)}%, accepted latency p50 ${q(acceptedMs, 0.5).toFixed(1)} p99 ${q(acceptedMs, 0.99).toFixed(1)} max ${acceptedMs.at(-1)!.toFixed(1)} ms (SLO ${SLO * 1000}); ` +
        `rejections answered after p50/p99 ${q(rejectDispatcherMs, 0.5).toFixed(2)}/${q(rejectDispatcherMs, 0.99).toFixed(2)} ms in the dispatcher, ${q(rejectClientMs, 0.5).toFixed(0)}/${q(rejectClientMs, 0.99).toFixed(0)} ms at the client; ` +
        `memory after a full GC, idle after a ${WARMUP_MS / 1000} s warm-up → idle at the end (halfway, under load): ` +
        growth
          .map(
            (g) =>
              `${g.p} heap ${signed(g.heap, 2)} (${signed(g.heapMid, 2)}) MiB, external ${signed(g.external, 2)}, RSS ${signed(g.rss, 1)} (${g.rssLast.toFixed(0)}), per-second heap max ${g.heapMax.toFixed(1)}`,
          )
          .join('; '),
    );

    assert.deepEqual(
      load.unanswered().map((r) => r.id),
      [],
      'every request answered',
    );
    assert.deepEqual(
      load.duplicates().map((r) => r.id),
      [],
      'no request answered twice',
    );
    assert.ok(
      phase1.length >= 0.9 * saturation * (PHASE_MS / 1000) &&
        phase2.length >= 0.9 * 2 * saturation * (PHASE_MS / 1000),
      'the client kept the rates',
    );
    // Overload is shed by early rejection, never by timeouts or errors.
    assert.equal(statusCounts(phase1).error + statusCounts(phase2).error, 0, 'no errors (no timeouts)');
    assert.ok(rejectedIn2.length >= 0.3 * phase2.length, 'at 2× a large share is rejected');
    assert.ok(
      q(rejectDispatcherMs, 0.99) < SLO * 250,
      'the dispatcher rejects at once (p99 under a quarter of the SLO)',
    );
    assert.ok(q(rejectClientMs, 0.99) < SLO * 1000, 'the client hears of it well before the SLO would have passed');
    // Accepted work is admitted on an estimate with an 11 ms runtime allowance; on this loaded
    // 2-core machine some finish a few ms late (how many depends on the machine's other load, so
    // it is reported above, not asserted), but the tail stays near the SLO and none comes anywhere
    // near a timeout (deadline + grace).
    assert.ok(q(acceptedMs, 0.99) <= 2 * SLO * 1000, 'accepted requests: p99 latency within twice the SLO');
    assert.ok(acceptedMs.at(-1)! < SLO * 1000 + GRACE_MS, 'no accepted request near its timeout');
    // Memory stays flat. What still grows after the warm-up is mostly compiled code (a heap
    // snapshot diff of a worker shows nothing else); 1 MiB is what a leak of ~170 bytes per request
    // in the dispatcher (~6,000 requests) or ~700 bytes per job in a worker (~1,500 jobs) would add.
    assert.ok(perSecond.length >= 15, `${perSecond.length} per-second samples`);
    for (const g of growth) {
      assert.ok(g.gc, `${g.p} measured after a full GC`);
      assert.ok(g.heap < 1, `${g.p} heap grew ${g.heap.toFixed(2)} MiB`);
      assert.ok(g.external < 1, `${g.p} external memory grew ${g.external.toFixed(2)} MiB`);
      assert.ok(g.rss < 32, `${g.p} RSS grew ${g.rss.toFixed(1)} MiB`);
    }
  });
});
