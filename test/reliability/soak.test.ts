// Load soak, bounded in time: the cluster (4 worker processes, one 20 ms model) at its saturation
// rate, then at twice that. Nothing is lost (each request id gets exactly one reply), overload is
// shed by early rejection (fast "rejected" replies, no timeout errors), and the memory of the
// dispatcher and the workers stays flat (heap after a full GC and RSS, sampled every second over
// the supervisor's IPC channel; the processes run with --expose-gc).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProcessMemory } from '../../bus/index.js';
import { quantileSorted } from '../../planner/stats.js';
import { testProfile } from '../actors/helpers.js';
import { LoadClient, sleep, startProcessCluster, statusCounts, type ProcessCluster, type RequestRecord } from './helpers.js';

const LATENCY = 0.02;
const WORKERS = 4;
const SLO = 5 * LATENCY;
const PHASE_MS = 10_000;
const WARMUP_MS = 3_000;
const PROCESSES = ['dispatcher', ...Array.from({ length: WORKERS }, (_, i) => `gpu-${i}`)];
const MiB = 2 ** 20;
const signed = (x: number, digits: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;

describe('reliability: load soak at 1× and 2× the saturation rate', () => {
  let c: ProcessCluster;
  before(async () => {
    c = await startProcessCluster({ workers: WORKERS, profiles: [testProfile('a', LATENCY, 8)], planner: { strategy: 'round-robin' }, execArgv: ['--expose-gc'] });
  });
  after(() => c?.close());

  it('nothing lost, overload rejected early, memory flat', { timeout: 90_000 }, async (t) => {
    const saturation = WORKERS / LATENCY; // each device serves 1 / latency requests per second
    const load = new LoadClient(c.client, c.subjects, 'soak');
    t.after(() => load.close());
    const samples = new Map<string, Array<{ at: number; memory: ProcessMemory }>>(PROCESSES.map((p) => [p, []]));
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await Promise.all(PROCESSES.map(async (p) => samples.get(p)!.push({ at: Date.now(), memory: await c.child(p).memoryUsage() })));
        await sleep(1_000);
      }
    })();
    const started = Date.now();
    await load.paced(saturation, PHASE_MS, () => ({ model: 'a', slo: SLO }));
    const doubledAt = Date.now();
    await load.paced(2 * saturation, PHASE_MS, () => ({ model: 'a', slo: SLO }));
    const endedAt = Date.now();
    await load.settle(SLO * 1000 + 3_000);
    sampling = false;
    await sampler;

    const all = [...load.records.values()];
    const phase1 = all.filter((r) => r.sentAt < doubledAt);
    const phase2 = all.filter((r) => r.sentAt >= doubledAt);
    const rejectMs = (records: RequestRecord[]): number[] => records.filter((r) => r.replies[0]?.status === 'rejected').map((r) => r.repliedAt! - r.sentAt).sort((x, y) => x - y);
    const quantile = quantileSorted;
    const rejected2 = rejectMs(phase2);
    const okWithin = (records: RequestRecord[]): number => records.filter((r) => r.replies[0]?.withinSlo).length / Math.max(1, records.filter((r) => r.replies[0]?.status === 'ok').length);
    // How late (dispatcher-side, ms) the accepted requests that missed their SLO were.
    const lateMs = all.filter((r) => r.replies[0]?.withinSlo === false).map((r) => r.replies[0].timings.total - SLO * 1000).sort((x, y) => x - y);
    const growth = PROCESSES.map((p) => {
      const s = samples.get(p)!.filter((x) => x.at >= started + WARMUP_MS);
      const first = s[0].memory;
      const last = s.at(-1)!.memory;
      return {
        p, samples: s.length, heap: (last.heapUsed - first.heapUsed) / MiB, heapMax: Math.max(...s.map((x) => x.memory.heapUsed)) / MiB,
        external: (last.external - first.external) / MiB, rss: (last.rss - first.rss) / MiB, rssLast: last.rss / MiB, gc: last.gc,
      };
    });
    console.log(`# soak: saturation ${saturation} req/s; 1× ${phase1.length} requests ${JSON.stringify(statusCounts(phase1))}, 2× ${phase2.length} requests ${JSON.stringify(statusCounts(phase2))} ` +
      `in ${((endedAt - started) / 1000).toFixed(1)} s; accepted within SLO 1× ${(okWithin(phase1) * 100).toFixed(1)}%, 2× ${(okWithin(phase2) * 100).toFixed(1)}% (the others late by p50 ${quantile(lateMs, 0.5).toFixed(1)} ms, max ${(lateMs.at(-1) ?? 0).toFixed(1)} ms); ` +
      `rejection answered after p50 ${quantile(rejected2, 0.5).toFixed(1)} ms, p99 ${quantile(rejected2, 0.99).toFixed(1)} ms (client-side); memory growth from ${WARMUP_MS / 1000} s to the end: ` +
      growth.map((g) => `${g.p} heap ${signed(g.heap, 2)} MiB (max ${g.heapMax.toFixed(1)}), external ${signed(g.external, 2)}, RSS ${signed(g.rss, 1)} (${g.rssLast.toFixed(0)})`).join('; '));

    assert.deepEqual(load.unanswered().map((r) => r.id), [], 'every request answered');
    assert.deepEqual(load.duplicates().map((r) => r.id), [], 'no request answered twice');
    assert.ok(phase1.length >= 0.9 * saturation * (PHASE_MS / 1000) && phase2.length >= 0.9 * 2 * saturation * (PHASE_MS / 1000), 'the client kept the rates');
    // Overload is shed by early rejection, never by timeouts or errors.
    assert.equal(statusCounts(phase1).error + statusCounts(phase2).error, 0, 'no errors (no timeouts)');
    assert.ok(statusCounts(phase2).rejected >= 0.3 * phase2.length, 'at 2× a large share is rejected');
    assert.ok(quantile(rejected2, 0.99) < SLO * 1000, 'rejections come at once, well before the SLO would have passed');
    // Accepted work is admitted on an estimate with an 11 ms runtime allowance; on this loaded
    // 2-core machine some finish a few ms late (how many depends on the machine's other load, so
    // it is reported above, not asserted), but none comes anywhere near a timeout.
    assert.ok((lateMs.at(-1) ?? 0) < SLO * 1000, 'accepted requests that miss, miss by less than one SLO');
    // Memory stays flat. What does grow after warm-up is compiled code (0.2–0.4 MiB here; a heap
    // snapshot diff of a worker shows nothing else); 1 MiB is what a leak of ~170 bytes per request
    // in the dispatcher (~6,000 requests) or ~700 bytes per job in a worker (~1,500 jobs) would add.
    for (const g of growth) {
      assert.ok(g.gc, `${g.p} sampled after a full GC`);
      assert.ok(g.samples >= 10, `${g.p}: ${g.samples} samples`);
      assert.ok(g.heap < 1, `${g.p} heap grew ${g.heap.toFixed(2)} MiB`);
      assert.ok(g.external < 1, `${g.p} external memory grew ${g.external.toFixed(2)} MiB`);
      assert.ok(g.rss < 32, `${g.p} RSS grew ${g.rss.toFixed(1)} MiB`);
    }
  });
});
