// `meshserve import` as a function: an ONNX file in, verified pipeline stages written to the model
// store, and the model's measured profile out (the caller stores it in Redis and JSON). An
// unchanged file (same sha256, same shapes and max pp) whose stage files are all in the store is
// not imported again: nothing is measured or uploaded. Nothing is stored for a file that fails.
import type { NatsConnection } from '@nats-io/transport-node';
import { sha256Hex } from '../../modelgen/model-files.js';
import { type ImportedModel, type ImportOptions, importModel } from '../../modelimport/import-model.js';
import { importedObjects } from '../../planner/profile.js';
import type { ModelProfile } from '../../planner/types.js';
import { ModelStore } from '../../serving/model-store/model-store.js';
import { type ImportedStageCost, profileImported } from './imported-profile.js';

/** Room left in a message for what surrounds the tensors crossing a cut. */
const ENVELOPE_BYTES = 16 * 1024;

export interface ImportFileOptions extends Omit<ImportOptions, 'onProgress' | 'maxCrossingBytes'> {
  name: string;
  /** Where the bytes came from (for the notes). */
  source: string;
  runs: number;
  warmup: number;
  /** NATS for the model store (and its max payload bounds what crosses a cut). */
  nc: NatsConnection;
  /** Opens further connections for timing the hops. */
  connect: () => Promise<NatsConnection>;
  prefix?: string;
  /** The profile this model had, to tell whether anything changed. */
  previous?: ModelProfile;
  /** Import even when nothing changed. */
  force?: boolean;
  onProgress?: (line: string) => void;
}

export interface ImportFileResult {
  profile: ModelProfile;
  /** True when nothing changed and the previous profile stands. */
  unchanged: boolean;
  /** Stage files uploaded, and those the store already held. */
  uploaded: number;
  present: number;
  imported?: ImportedModel;
  costs?: ImportedStageCost[];
}

const sameShapes = (a: Readonly<Record<string, readonly number[]>>, b: Readonly<Record<string, readonly number[]>>) =>
  Object.entries(a).every(([name, shape]) => b[name]?.join(',') === shape.join(','));

/** Whether `previous` is this very import (same file and options) with every stage file in the store. */
async function unchanged(sha256: string, o: ImportFileOptions, store: ModelStore): Promise<boolean> {
  const p = o.previous?.imported;
  if (!p || o.force || o.previous?.name !== o.name || p.sha256 !== sha256) return false;
  if (p.maxPp !== (o.maxPp ?? 8) || p.maxOp !== (o.maxOp ?? 4)) return false;
  if (o.inputShapes && !sameShapes(o.inputShapes, p.inputShapes)) return false;
  for (const object of importedObjects(p)) if (!(await store.has(object))) return false;
  return true;
}

export async function importFile(bytes: Uint8Array, o: ImportFileOptions): Promise<ImportFileResult> {
  const progress = o.onProgress ?? (() => {});
  const store = await ModelStore.open(o.nc, o.prefix);
  const sha256 = sha256Hex(bytes);
  if (o.previous && (await unchanged(sha256, o, store))) {
    progress(`${o.name}: unchanged (sha256 ${sha256.slice(0, 12)}): nothing imported or uploaded`);
    return { profile: o.previous, unchanged: true, uploaded: 0, present: 0 };
  }
  const maxPp = o.maxPp ?? 8;
  const maxOp = o.maxOp ?? 4;
  const imported = await importModel(bytes, {
    ...o,
    maxPp,
    maxOp,
    maxCrossingBytes: (o.nc.info?.max_payload ?? 2 ** 20) - ENVELOPE_BYTES,
    onProgress: (line) => progress(`${o.name}: ${line}`),
  });
  for (const s of imported.skipped) progress(`${o.name}: not offered: ${s}`);
  progress(`${o.name}: ${imported.sharding.reason}`);
  const { profile, costs } = await profileImported(imported, {
    ...o,
    maxPp,
    maxOp,
    onProgress: (line) => progress(`${o.name}: ${line}`),
  });
  let uploaded = 0;
  let present = 0;
  const files = new Map<string, Uint8Array>();
  for (const plan of imported.plans) for (const s of plan.stages) files.set(s.sha256, s.bytes);
  for (const plan of imported.shardedPlans)
    for (const s of plan.stages) for (const g of s.segments) for (const f of g.files) files.set(f.sha256, f.bytes);
  for (const bytes of files.values()) {
    if ((await store.put(bytes)).uploaded) uploaded++;
    else present++;
  }
  progress(
    `${o.name}: ${uploaded} stage file(s) uploaded to the model store (bucket ${store.bucket}), ${present} already there`,
  );
  return { profile, unchanged: false, uploaded, present, imported, costs };
}

/** The measured stages as a Markdown table (what `meshserve import` prints). */
export function formatImportTable(r: ImportFileResult): string {
  if (!r.imported || !r.costs) return `${r.profile.name}: unchanged; profile kept`;
  const f = (x: number) => x.toFixed(2);
  const diff = new Map<string, number>([
    ...r.imported.plans.map((p) => [`pp${p.pp}-op1`, p.maxRelativeDifference] as const),
    ...r.imported.shardedPlans.map((p) => [`pp${p.pp}-op${p.op}`, p.maxRelativeDifference] as const),
  ]);
  const lines = [
    '| config | stage | nodes | hands on | weights MiB | compute ms | partial sum ms | NATS all-gathers | all-gather ms | NATS hop ms | stage latency ms | max rel. diff |',
    '|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const c of r.costs) {
    const sends = c.sends.length > 2 ? `${c.sends[0]} … (${c.sends.length})` : c.sends.join(', ');
    lines.push(
      `| ${c.config} | ${c.stage} | ${c.nodes} | ${sends} | ${f(c.weightBytes / 2 ** 20)} | ${f(c.computeMs)} | ${f(c.sumMs)} | ${c.exchanges} | ${f(c.exchangeMs)} | ${f(c.hopMs)} | **${f(c.totalMs)}** | ${c.stage === 0 ? diff.get(c.config)!.toExponential(1) : ''} |`,
    );
  }
  return lines.join('\n');
}
