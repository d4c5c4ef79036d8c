// The wire tensor: how activations travel between actors, as plain MessagePack
// `{ dtype, shape, data }` with the raw little-endian bytes in `data` (a msgpack bin). A client's
// input may also carry `data` as a base64 string of those bytes (what a JSON client sends, and
// what bus/codec.ts writes bytes as in JSON replies) or as an array of numbers; both become
// bytes on receipt. Validation against a graph's TensorSpec gives one clear error per problem.
import { z } from 'zod';
import { formatShape, type TensorSpec } from '../../modelgen/tensor-spec.js';

export const SUPPORTED_DTYPES = ['float32'] as const;
export type WireDType = (typeof SUPPORTED_DTYPES)[number];

export interface WireTensor {
  dtype: WireDType;
  shape: number[];
  /** Row-major little-endian element bytes; byteLength = 4 · product(shape). */
  data: Uint8Array;
}

// Canonical base64 (RFC 4648, padded): Buffer's own decoder would skip stray characters. A flat
// character class plus a length check, not a grouped regex (that one overflows the stack on
// strings of megabytes).
const BASE64_CHARS = /^[A-Za-z0-9+/]*={0,2}$/;
const isBase64 = (text: string): boolean => text.length % 4 === 0 && BASE64_CHARS.test(text);

function base64Bytes(text: string): Uint8Array {
  const b = Buffer.from(text, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function float32Bytes(values: number[]): Uint8Array {
  const f = Float32Array.from(values);
  return new Uint8Array(f.buffer);
}

/** Structure of a wire tensor as received (dtype and sizes are checked afterwards). */
export const wireTensorSchema = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  data: z.union(
    [
      z.instanceof(Uint8Array),
      z.string().refine(isBase64).transform(base64Bytes),
      z.array(z.number()).transform(float32Bytes),
    ],
    {
      error: (issue) =>
        typeof issue.input === 'string'
          ? 'a string must be padded base64 (RFC 4648)'
          : 'expected bytes, a base64 string or an array of numbers',
    },
  ),
});

export type TensorErrorCode = 'missing' | 'malformed' | 'dtype' | 'shape' | 'size' | 'non_finite';

/** A bad tensor: the caller's fault, to be answered with `code` and `message`, never a crash. */
export class TensorError extends Error {
  constructor(
    readonly code: TensorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TensorError';
  }
}

/** Wraps float32 values as a wire tensor without copying. */
export function wireTensor(values: Float32Array, shape: number[]): WireTensor {
  const count = shape.reduce((a, b) => a * b, 1);
  if (values.length !== count) throw new Error(`${values.length} values for shape ${formatShape(shape)}`);
  return {
    dtype: 'float32',
    shape: [...shape],
    data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  };
}

/** The tensor's values: a view when the bytes are 4-byte aligned, else one copy. */
export function float32Values(t: WireTensor): Float32Array {
  const { data } = t;
  if (data.byteOffset % 4 === 0) return new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4);
  // Copy explicitly: Buffer#slice (what msgpack decoders hand over) is a view, not a copy.
  const copy = new Uint8Array(data.byteLength);
  copy.set(data);
  return new Float32Array(copy.buffer);
}

/**
 * Checks a received value against the spec of the graph input it feeds: present, well-formed,
 * float32, the right shape (a named dimension such as 'batch' takes any size ≥ 1), the right
 * byte count, and finite values.
 */
export function parseWireTensor(value: unknown, spec: TensorSpec): WireTensor {
  const what = `input "${spec.name}" (float32 ${formatShape(spec.shape)})`;
  if (value === undefined || value === null) throw new TensorError('missing', `missing ${what}`);
  const parsed = wireTensorSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new TensorError(
      'malformed',
      `${what} is not a tensor {dtype, shape, data: bytes | base64 | numbers}: ${issues}`,
    );
  }
  const { dtype, shape, data } = parsed.data;
  if (!(SUPPORTED_DTYPES as readonly string[]).includes(dtype)) {
    throw new TensorError('dtype', `${what}: dtype "${dtype}" is not accepted; expected float32`);
  }
  const shapeOk =
    shape.length === spec.shape.length &&
    spec.shape.every((d, i) => (typeof d === 'number' ? shape[i] === d : shape[i] >= 1));
  if (!shapeOk) throw new TensorError('shape', `${what}: got shape ${formatShape(shape)}`);
  const expectedBytes = 4 * shape.reduce((a, b) => a * b, 1);
  if (data.byteLength !== expectedBytes) {
    throw new TensorError(
      'size',
      `${what}: shape ${formatShape(shape)} needs ${expectedBytes} bytes of data, got ${data.byteLength}`,
    );
  }
  const tensor: WireTensor = { dtype: 'float32', shape, data };
  const values = float32Values(tensor);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new TensorError(
        'non_finite',
        `${what}: element ${i} is ${values[i]}; inputs must be finite (no NaN or Infinity)`,
      );
    }
  }
  return tensor;
}
