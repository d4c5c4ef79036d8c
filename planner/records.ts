// Per-request simulation records as CSV (one line per request, in arrival order).
import type { RequestRecords, Workload } from './types.js';

const num = (x: number) => (Number.isNaN(x) ? '' : x === Infinity ? 'inf' : String(x));

export function recordsToCsv(w: Workload, r: RequestRecords): string {
  const out = ['arrival,model,slo,group,start,finish,good'];
  for (let i = 0; i < w.arrival.length; i++) {
    out.push(
      `${w.arrival[i]},${w.modelNames[w.model[i]]},${num(w.slo[i])},${r.group[i]},${num(r.start[i])},${num(r.finish[i])},${r.good[i]}`,
    );
  }
  return `${out.join('\n')}\n`;
}
