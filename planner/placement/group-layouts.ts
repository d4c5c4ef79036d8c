// Group layouts: the ways AlpaServe splits a cluster into mesh groups (docs/alpaserve.md, "Placement", Algorithm 2 as
// the reference runs it). For each power-of-two group size s ≤ N, ⌊N/s⌋ groups of size s, one
// layout per factorisation s = pp·op with pp ≤ maxPp and op ≤ maxOp; the N mod s devices left
// over become extra pipeline groups (op 1) of the binary decomposition's sizes, capped at maxPp
// (our choice where the reference leaves it open: bigger leftovers are cut into maxPp chunks).
import type { ParallelConfig } from '../types.js';
import type { GroupLayout } from './types.js';

export interface LayoutLimits {
  /** Largest pipeline depth; default 8. */
  readonly maxPp?: number;
  /** Largest intra-op degree; default 4. */
  readonly maxOp?: number;
}

/** Pipeline-only groups covering `r` devices: binary decomposition, largest first, each ≤ maxPp. */
function leftoverGroups(r: number, maxPp: number): ParallelConfig[] {
  const out: ParallelConfig[] = [];
  for (let size = 1 << 30; size >= 1; size >>= 1) {
    if (!(r & size)) continue;
    let left = size;
    while (left > 0) {
      const pp = Math.min(left, maxPp);
      out.push({ pp, op: 1 });
      left -= pp;
    }
  }
  return out;
}

export function enumerateLayouts(devices: number, limits: LayoutLimits = {}): GroupLayout[] {
  if (!Number.isInteger(devices) || devices < 1) throw new Error(`devices must be a positive integer, got ${devices}`);
  const maxPp = limits.maxPp ?? 8;
  const maxOp = limits.maxOp ?? 4;
  const layouts: GroupLayout[] = [];
  for (let s = 1; s <= devices; s *= 2) {
    if (s > 8 && s % 8 !== 0) continue;
    const count = Math.floor(devices / s);
    const leftover = leftoverGroups(devices - count * s, maxPp);
    for (let op = 1; op <= Math.min(s, maxOp); op *= 2) {
      const pp = s / op;
      if (pp > maxPp) continue;
      layouts.push([...Array.from({ length: count }, () => ({ pp, op })), ...leftover]);
    }
  }
  return layouts;
}

/** Short description, e.g. "8×(pp4,op2) + 1×(pp1,op1)". */
export function describeLayout(layout: GroupLayout): string {
  const parts: { key: string; n: number }[] = [];
  for (const c of layout) {
    const key = `(pp${c.pp},op${c.op})`;
    const last = parts[parts.length - 1];
    if (last && last.key === key) last.n++;
    else parts.push({ key, n: 1 });
  }
  return parts.map((p) => `${p.n}×${p.key}`).join(' + ');
}
