// The measurement both serving benches make: a model served through NATS, the dispatcher and
// worker processes next to direct onnxruntime in the bench's own process, in the same run.
//   throughput: closed loop, `window` requests in flight for `durationMs` (direct: one run after
//               another, onnxruntime on this thread);
//   latency:    one request at a time, `lone` of them: p50/p99.
// Rounds alternate direct and served; the medians over rounds are printed as a table, with the
// ratio served / direct and the latency served adds.
import { type AsyncCall, closedLoopThroughput, loneLatency, median } from './measure.js';

export interface ServedPath {
  /** Short name for the round lines, e.g. `pp2-op1`. */
  key: string;
  /** The table's row label, e.g. `served pp2-op1 (dispatcher + 2 worker processes)`. */
  label: string;
  call: AsyncCall;
}

export interface Comparison {
  rounds: number;
  durationMs: number;
  window: number;
  lone: number;
  /** The line above the table: what was measured. */
  title: string;
}

interface Sample {
  rps: number;
  p50: number;
  p99: number;
}

const f = (x: number, d = 2) => x.toFixed(d);

export async function compareServedWithDirect(
  direct: AsyncCall,
  served: readonly ServedPath[],
  o: Comparison,
): Promise<void> {
  for (const p of served) await closedLoopThroughput(p.call, o.window, 500); // warm-up
  await closedLoopThroughput(direct, 1, 500);
  const sample = async (call: AsyncCall, inFlight: number): Promise<Sample> => {
    const rps = await closedLoopThroughput(call, inFlight, o.durationMs);
    return { rps, ...(await loneLatency(call, o.lone)) };
  };
  const results = new Map<string, Sample[]>();
  const record = (key: string, s: Sample) => (results.get(key) ?? results.set(key, []).get(key)!).push(s);
  for (let r = 0; r < o.rounds; r++) {
    const d = await sample(direct, 1);
    record('direct', d);
    const line = [`round ${r + 1}: direct ${f(d.rps, 0)} req/s (p50 ${f(d.p50)} ms)`];
    for (const p of served) {
      const s = await sample(p.call, o.window);
      record(p.key, s);
      line.push(`${p.key} ${f(s.rps, 0)} req/s (p50 ${f(s.p50)} ms)`);
    }
    console.log(line.join('; '));
  }
  const med = (key: string, field: keyof Sample) => median(results.get(key)!.map((s) => s[field]));
  const base = { rps: med('direct', 'rps'), p50: med('direct', 'p50'), p99: med('direct', 'p99') };
  console.log(
    `\n${o.title}; medians of ${o.rounds} rounds (${o.durationMs} ms closed loop, window ${o.window} served; ${o.lone} lone requests)`,
  );
  console.log('\n| path | requests/s | × direct | lone p50 ms | lone p99 ms | p50 added ms |');
  console.log('|---|---:|---:|---:|---:|---:|');
  console.log(`| direct onnxruntime (this process) | ${f(base.rps, 0)} | 1.00 | ${f(base.p50)} | ${f(base.p99)} | – |`);
  for (const p of served) {
    const rps = med(p.key, 'rps');
    console.log(
      `| ${p.label} | ${f(rps, 0)} | ${f(rps / base.rps)} | ${f(med(p.key, 'p50'))} | ${f(med(p.key, 'p99'))} | ${f(med(p.key, 'p50') - base.p50)} |`,
    );
  }
}
