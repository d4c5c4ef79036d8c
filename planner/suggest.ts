// "Did you mean": the known names closest to a mistyped one (edit distance), for error messages.

/** Levenshtein distance between `a` and `b`. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

/** The known names within a few edits of `name` (closest first), or that contain it; at most `max`. */
export function closest(name: string, known: readonly string[], max = 3): string[] {
  const limit = Math.max(2, Math.floor(name.length / 3));
  return known
    .map((k) => ({ k, d: k.includes(name) && name.length >= 3 ? 0.5 : distance(name, k) }))
    .filter((x) => x.d <= limit)
    .sort((x, y) => x.d - y.d || x.k.localeCompare(y.k))
    .slice(0, max)
    .map((x) => x.k);
}

/** `; did you mean "a" or "b"?`, or '' when nothing is close. */
export function didYouMean(name: string, known: readonly string[]): string {
  const near = closest(name, known);
  if (!near.length) return '';
  const quoted = near.map((n) => `"${n}"`);
  return `; did you mean ${quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}` : quoted[0]}?`;
}
