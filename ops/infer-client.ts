// Public requests from the operator tools (the REPL's `infer()`, `meshserve infer`): one request
// on `ms.infer.<model>` in either encoding, and a small open-loop load with its summary. A client
// like any other: it speaks only the public protocol (docs/protocol.md).
import type { NatsConnection } from '@nats-io/transport-node';
import type { Redis } from 'ioredis';
import { decode, type Encoding, encode, encodingOf, headersFor } from '../bus/index.js';
import { quantileSorted } from '../planner/stats.js';
import { readStoredProfile } from '../serving/planner-actor/cluster-state.js';
import type { RuntimeKeys } from '../serving/protocol/keys.js';
import { InferReply } from '../serving/protocol/messages.js';
import { type ServedInput, servedInputs } from '../serving/protocol/served-inputs.js';
import type { RuntimeSubjects } from '../serving/protocol/subjects.js';
import { float32Values, type WireTensor, wireTensor, wireTensorSchema } from '../serving/protocol/tensor.js';

export interface InferBody {
  id?: string;
  input?: unknown;
  /** Seconds. */
  slo?: number;
}

/** A request that got no reply: nobody serves the subject, or the timeout passed. */
export class NoReplyError extends Error {
  override readonly name = 'NoReplyError';
}

/** The names of an error and its causes (nats.js wraps "no responders" and timeouts in a RequestError). */
function causes(err: unknown): string[] {
  const names: string[] = [];
  for (let e = err; e instanceof Error && names.length < 5; e = e.cause) names.push(e.name);
  return names;
}

/** The reply's body as sent (JSON text decoded, or MessagePack) — the REPL shows it as is. */
export async function inferRaw(
  nc: NatsConnection,
  subjects: RuntimeSubjects,
  model: string,
  body: InferBody,
  o: { encoding?: Encoding; timeoutMs: number },
): Promise<unknown> {
  const encoding = o.encoding ?? 'msgpack';
  const subject = subjects.infer(model); // model names may hold dots (bert-1.3b)
  try {
    // Fields left undefined are left out: MessagePack would carry them as an extension type, which
    // the dispatcher refuses (plain MessagePack only).
    const fields = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
    const reply = await nc.request(subject, encode(fields, encoding), {
      timeout: o.timeoutMs,
      headers: headersFor(encoding),
    });
    return decode(reply.data, encodingOf(reply.headers));
  } catch (err) {
    if (causes(err).includes('NoResponders'))
      throw new NoReplyError(`nobody serves ${subject} (no responders): no dispatcher is running on this cluster`);
    if (causes(err).includes('TimeoutError'))
      throw new NoReplyError(`no reply from ${subject} within ${o.timeoutMs} ms`);
    throw err;
  }
}

/** One request, its reply checked against the protocol's schema. */
export async function inferOnce(
  nc: NatsConnection,
  subjects: RuntimeSubjects,
  model: string,
  body: InferBody,
  o: { encoding?: Encoding; timeoutMs: number },
): Promise<InferReply> {
  const raw = await inferRaw(nc, subjects, model, body, o);
  const parsed = InferReply.safeParse(raw);
  if (!parsed.success) throw new Error(`not a meshserve reply: ${JSON.stringify(raw).slice(0, 200)}`);
  return parsed.data;
}

/** A tensor of the given shape whose every value is `value` (0.5: finite, and not a degenerate 0). */
export function filledTensor(shape: readonly number[], value = 0.5): WireTensor {
  return wireTensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value), [...shape]);
}

/**
 * A request's input of tensors of 0.5s at these shapes: one input travels as its tensor, several
 * as an object of tensors by input name (docs/protocol.md).
 */
export function filledInput(inputs: readonly { name?: string; shape: readonly number[] }[]): unknown {
  if (inputs.length === 1) return filledTensor(inputs[0].shape);
  return Object.fromEntries(inputs.map((i) => [i.name, filledTensor(i.shape)]));
}

/** The inputs `model` is served at, from its profile in Redis; undefined for a simulated model or none stored. */
export async function readServedInputs(
  redis: Redis,
  keys: RuntimeKeys,
  model: string,
): Promise<ServedInput[] | undefined> {
  const profile = await readStoredProfile(redis, keys, model);
  return profile && servedInputs(profile);
}

/** The stderr line saying which input `meshserve infer` sends when it is given none. */
export function servedInputsNote(model: string, inputs: readonly ServedInput[]): string {
  const shape = (s: readonly number[]) => `[${s.join(',')}]`;
  const what =
    inputs.length === 1
      ? `a float32 tensor ${shape(inputs[0].shape)} of 0.5s, the shape ${model} is served at`
      : `float32 tensors ${inputs.map((i) => `${i.name} ${shape(i.shape)}`).join(', ')} of 0.5s, the shapes ${model} is served at`;
  return `sending ${what}; give an input or --tensor for your own`;
}

/** Tensors with more values than this are abridged in a printed reply. */
const ABRIDGE_ABOVE = 16;

/** A wire tensor with its values replaced by their count, range and first few, when there are many. */
function abridgeTensor(value: unknown): unknown {
  const parsed = wireTensorSchema.safeParse(value);
  if (!parsed.success || parsed.data.dtype !== 'float32' || parsed.data.data.byteLength % 4 !== 0) return value;
  const values = float32Values(parsed.data as WireTensor);
  if (values.length <= ABRIDGE_ABOVE) return value;
  const round = (v: number) => Number(v.toPrecision(4));
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const first = [...values.subarray(0, 4)].map(round).join(', ');
  return {
    ...(value as object),
    data: `${values.length} float32 values in [${round(min)}, ${round(max)}], first [${first}] (--raw for all)`,
  };
}

/**
 * A reply for the terminal: an output tensor (or each of several by name) with more than a few
 * values shows its dtype, shape, range and first values instead of its bytes. Everything else as sent.
 */
export function abridgeReply(raw: unknown): unknown {
  if (!raw || typeof raw !== 'object' || !('output' in raw)) return raw;
  const output = (raw as { output: unknown }).output;
  if (!output || typeof output !== 'object' || Array.isArray(output)) return raw;
  const abridged =
    'dtype' in output
      ? abridgeTensor(output)
      : Object.fromEntries(Object.entries(output).map(([name, t]) => [name, abridgeTensor(t)]));
  return { ...raw, output: abridged };
}

/** The default client timeout: SLO + 2 s grace + 1 s for a reconnect (docs/protocol.md), else 10 s. */
export function clientTimeoutMs(slo: number | undefined): number {
  return slo === undefined ? 10_000 : (slo + 3) * 1000;
}

export interface LoadSummary {
  model: string;
  sent: number;
  /** Seconds from the first send to the last reply. */
  elapsed: number;
  ok: number;
  rejected: number;
  errors: number;
  /** Requests that got no reply (timeout, no responders). */
  noReply: number;
  /** Client-measured latency of the ok replies, seconds. */
  latency: { p50: number; p99: number };
  /** Reasons of errors and missing replies, with their counts. */
  reasons: Map<string, number>;
}

export interface LoadOptions {
  count: number;
  /** Requests per second: sends are spaced 1/rate apart, whatever the replies do (open loop). */
  rate: number;
  body: InferBody;
  timeoutMs: number;
  onProgress?: (done: number, sent: number) => void;
  signal?: AbortSignal;
}

/** `count` requests at `rate` req/s, open loop; resolves once every one is answered or timed out. */
export async function inferLoad(
  nc: NatsConnection,
  subjects: RuntimeSubjects,
  model: string,
  o: LoadOptions,
): Promise<LoadSummary> {
  const s: LoadSummary = {
    model,
    sent: 0,
    elapsed: 0,
    ok: 0,
    rejected: 0,
    errors: 0,
    noReply: 0,
    latency: { p50: Number.NaN, p99: Number.NaN },
    reasons: new Map(),
  };
  const latencies: number[] = [];
  const count = (reason: string) => s.reasons.set(reason, (s.reasons.get(reason) ?? 0) + 1);
  const started = performance.now();
  const pending: Promise<void>[] = [];
  let done = 0;
  for (let i = 0; i < o.count && !o.signal?.aborted; i++) {
    const due = started + (i * 1000) / o.rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (o.signal?.aborted) break;
    const sentAt = performance.now();
    s.sent++;
    pending.push(
      inferOnce(nc, subjects, model, { ...o.body, id: `${o.body.id ?? 'infer'}-${i}` }, { timeoutMs: o.timeoutMs })
        .then((reply) => {
          if (reply.status === 'ok') {
            s.ok++;
            latencies.push((performance.now() - sentAt) / 1000);
          } else if (reply.status === 'rejected') s.rejected++;
          else {
            s.errors++;
            count(reply.reason ?? 'error');
          }
        })
        .catch((err: unknown) => {
          s.noReply++;
          count((err as Error).message);
        })
        .finally(() => o.onProgress?.(++done, s.sent)),
    );
  }
  await Promise.all(pending);
  s.elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  if (latencies.length) s.latency = { p50: quantileSorted(latencies, 0.5), p99: quantileSorted(latencies, 0.99) };
  return s;
}

/** The one-line summary of a load. */
export function formatLoadSummary(s: LoadSummary): string {
  const ms = (x: number) => (Number.isFinite(x) ? `${(x * 1000).toFixed(1)} ms` : '-');
  const rate = s.elapsed > 0 ? ` (${(s.sent / s.elapsed).toFixed(1)} req/s)` : '';
  const missing = s.noReply ? `, ${s.noReply} no reply` : '';
  const reasons = [...s.reasons].map(([why, n]) => `${n}× ${why}`).join('; ');
  return `${s.model}: ${s.sent} requests in ${s.elapsed.toFixed(1)} s${rate}: ${s.ok} ok, ${s.rejected} rejected, ${s.errors} errors${missing}; latency of ok replies p50 ${ms(s.latency.p50)}, p99 ${ms(s.latency.p99)}${reasons ? `\n  ${reasons}` : ''}`;
}
