// The description of a float32 tensor at a graph boundary: name and shape, where a string
// dimension (such as 'batch') accepts any positive size.
import type { Dim } from './graph-builder.js';

export interface TensorSpec {
  name: string;
  shape: Dim[];
}

export function formatShape(shape: readonly Dim[]): string {
  return `[${shape.join(', ')}]`;
}

/** Splits `total` items into `parts` contiguous ranges whose sizes differ by at most one. */
export function splitRange(total: number, parts: number, index: number): [number, number] {
  if (!Number.isInteger(parts) || parts < 1) throw new Error(`cannot split into ${parts} parts`);
  if (total < parts) throw new Error(`cannot split ${total} items into ${parts} non-empty parts`);
  const base = Math.floor(total / parts);
  const extra = total % parts;
  const start = index * base + Math.min(index, extra);
  return [start, start + base + (index < extra ? 1 : 0)];
}
