// onnxruntime-node for the importer: sessions on one intra-op thread (how a worker that stands for
// one core runs its stage), seeded sample inputs, and readable refusals.
import * as ort from 'onnxruntime-node';
import { uniformFloats } from '../modelgen/seeded-random.js';

export type Tensors = Record<string, ort.Tensor>;

export interface SessionSettings {
  /** Intra-op threads per session (default 1). */
  threads?: number;
  provider?: string;
}

export function sessionOptions(
  s: SessionSettings = {},
  extra: ort.InferenceSession.SessionOptions = {},
): ort.InferenceSession.SessionOptions {
  // Errors come back to the importer, which reports them: onnxruntime need not log them too.
  return {
    executionProviders: [s.provider ?? 'cpu'],
    intraOpNumThreads: s.threads ?? 1,
    logSeverityLevel: 4,
    ...extra,
  };
}

export function createSession(
  bytes: Uint8Array,
  s: SessionSettings = {},
  extra: ort.InferenceSession.SessionOptions = {},
): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, sessionOptions(s, extra));
}

/** Values in [0, 1) from a seeded stream per input: image-like, and the same on every run. */
export function sampleInputs(shapes: Readonly<Record<string, readonly number[]>>, seed = 16): Tensors {
  const feeds: Tensors = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const count = shape.reduce((a, b) => a * b, 1);
    feeds[name] = new ort.Tensor('float32', uniformFloats(seed, `sample:${name}`, count, 0.5, 0.5), [...shape]);
  }
  return feeds;
}

/** Runs a session on the feeds it takes (others are ignored). */
export async function runSession(session: ort.InferenceSession, tensors: Tensors): Promise<Tensors> {
  const feeds: Tensors = {};
  for (const name of session.inputNames) {
    const t = tensors[name];
    if (!t) throw new Error(`no tensor "${name}" to feed`);
    feeds[name] = t;
  }
  return (await session.run(feeds)) as Tensors;
}

/**
 * Max |a − b| over the max |a| of the reference (the relative difference of two outputs); the
 * absolute difference when the reference is all zeros.
 */
export function relativeDifference(reference: ort.Tensor, other: ort.Tensor): number {
  const a = reference.data as Float32Array;
  const b = other.data as Float32Array;
  if (a.length !== b.length || reference.dims.join(',') !== other.dims.join(',')) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= diff)) diff = d; // NaN propagates as the largest difference
    scale = Math.max(scale, Math.abs(a[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

export { ort };
