// Our own trace format, in two encodings, for saving a workload and replaying it exactly.
//
// CSV: optional comment lines starting with '#' (a "# duration: <seconds>" comment sets the
// duration), then a header "arrival,model,slo" and one request per line: arrival seconds, model
// name, SLO seconds (empty or "inf" = none). The slo column may be left out entirely.
//
// JSON: { "format": "meshserve-trace/1", "duration": s, "models": [names],
//         "arrival": [s...], "model": [index...], "slo": [s or null...] }  (null = no SLO).
// Rows need not be sorted on input; they are sorted by arrival (stably) on reading.
import { z } from 'zod';
import { formatIssues } from '../profile.js';
import type { Workload } from '../types.js';

export const TRACE_JSON_FORMAT = 'meshserve-trace/1';

/** Builds a sorted Workload from unsorted rows. */
function fromRows(
  modelNames: string[],
  arrival: number[],
  model: number[],
  slo: number[],
  duration?: number,
): Workload {
  const order = Array.from(arrival.keys()).sort((a, b) => arrival[a] - arrival[b] || a - b);
  const w = {
    modelNames,
    arrival: Float64Array.from(order, (i) => arrival[i]),
    model: Int32Array.from(order, (i) => model[i]),
    slo: Float64Array.from(order, (i) => slo[i]),
    duration: 0,
  };
  const last = w.arrival.length ? w.arrival[w.arrival.length - 1] : 0;
  if (duration !== undefined && duration < last)
    throw new Error(`trace duration ${duration} is before its last arrival ${last}`);
  return { ...w, duration: duration ?? last };
}

function parseSlo(text: string, where: string): number {
  const s = text.trim().toLowerCase();
  if (s === '' || s === 'inf' || s === 'infinity') return Infinity;
  const v = Number(s);
  if (!(v > 0)) throw new Error(`${where}: SLO must be a positive number, "inf" or empty, got "${text}"`);
  return v;
}

export function workloadFromCsv(text: string, source = 'trace CSV'): Workload {
  const names: string[] = [];
  const index = new Map<string, number>();
  const arrival: number[] = [];
  const model: number[] = [];
  const slo: number[] = [];
  let duration: number | undefined;
  let columns: { arrival: number; model: number; slo: number } | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, li) => {
    const line = raw.trim();
    const where = `${source} line ${li + 1}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^#\s*duration\s*:\s*(\S+)/i.exec(line);
      if (m) {
        duration = Number(m[1]);
        if (!(duration >= 0)) throw new Error(`${where}: bad duration "${m[1]}"`);
      }
      return;
    }
    const cells = line.split(',');
    if (!columns) {
      const header = cells.map((c) => c.trim().toLowerCase());
      columns = { arrival: header.indexOf('arrival'), model: header.indexOf('model'), slo: header.indexOf('slo') };
      if (columns.arrival < 0 || columns.model < 0)
        throw new Error(
          `${where}: header must name the columns "arrival" and "model" (and optionally "slo"), got "${line}"`,
        );
      return;
    }
    const t = Number(cells[columns.arrival]);
    if (!Number.isFinite(t) || t < 0)
      throw new Error(`${where}: arrival must be a number ≥ 0, got "${cells[columns.arrival]}"`);
    const name = (cells[columns.model] ?? '').trim();
    if (!name) throw new Error(`${where}: missing model name`);
    let m = index.get(name);
    if (m === undefined) {
      m = names.length;
      names.push(name);
      index.set(name, m);
    }
    arrival.push(t);
    model.push(m);
    slo.push(columns.slo >= 0 ? parseSlo(cells[columns.slo] ?? '', where) : Infinity);
  });
  if (!columns) throw new Error(`${source}: no header line "arrival,model,slo"`);
  return fromRows(names, arrival, model, slo, duration);
}

export function workloadToCsv(w: Workload): string {
  const out = [`# duration: ${w.duration}`, 'arrival,model,slo'];
  for (let i = 0; i < w.arrival.length; i++) {
    const s = w.slo[i];
    out.push(`${w.arrival[i]},${w.modelNames[w.model[i]]},${s === Infinity ? '' : s}`);
  }
  return `${out.join('\n')}\n`;
}

const traceJsonSchema = z
  .object({
    format: z.literal(TRACE_JSON_FORMAT),
    duration: z.number().nonnegative().optional(),
    models: z.array(z.string().min(1)),
    arrival: z.array(z.number().finite().nonnegative()),
    model: z.array(z.number().int().nonnegative()),
    slo: z.array(z.number().positive().nullable()).optional(),
  })
  .superRefine((t, ctx) => {
    if (t.model.length !== t.arrival.length)
      ctx.addIssue({
        code: 'custom',
        path: ['model'],
        message: `has ${t.model.length} entries, arrival has ${t.arrival.length}`,
      });
    if (t.slo && t.slo.length !== t.arrival.length)
      ctx.addIssue({
        code: 'custom',
        path: ['slo'],
        message: `has ${t.slo.length} entries, arrival has ${t.arrival.length}`,
      });
    const bad = t.model.findIndex((m) => m >= t.models.length);
    if (bad >= 0)
      ctx.addIssue({
        code: 'custom',
        path: ['model', bad],
        message: `index ${t.model[bad]} but only ${t.models.length} models`,
      });
  });

export function workloadFromJson(json: unknown, source = 'trace JSON'): Workload {
  const r = traceJsonSchema.safeParse(json);
  if (!r.success) throw new Error(`invalid ${source}:\n${formatIssues(r.error)}`);
  const t = r.data;
  return fromRows(
    t.models,
    t.arrival,
    t.model,
    t.slo ? t.slo.map((s) => s ?? Infinity) : t.arrival.map(() => Infinity),
    t.duration,
  );
}

export function workloadToJson(w: Workload): z.input<typeof traceJsonSchema> {
  return {
    format: TRACE_JSON_FORMAT,
    duration: w.duration,
    models: [...w.modelNames],
    arrival: Array.from(w.arrival),
    model: Array.from(w.model),
    slo: Array.from(w.slo, (s) => (s === Infinity ? null : s)),
  };
}

const isJsonPath = (path: string): boolean => path.toLowerCase().endsWith('.json');

/** A trace from the text of a trace file; the encoding follows the file's extension (.json, otherwise CSV). */
export function traceFromText(text: string, path: string): Workload {
  if (isJsonPath(path)) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new Error(`trace ${path} is not valid JSON: ${(e as Error).message}`);
    }
    return workloadFromJson(json, `trace ${path}`);
  }
  return workloadFromCsv(text, `trace ${path}`);
}

/** The text of a trace file at `path`, encoded by its extension (.json, otherwise CSV). */
export function traceToText(w: Workload, path: string): string {
  return isJsonPath(path) ? `${JSON.stringify(workloadToJson(w))}\n` : workloadToCsv(w);
}
