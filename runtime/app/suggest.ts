/** Levenshtein distance with a cut-off, for "did you mean" suggestions. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < best) best = v;
    }
    if (best > max) return max + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/** Up to `count` names nearest to `name`, nearest first; only reasonably close ones. */
export function nearestNames(name: string, names: Iterable<string>, count: number): string[] {
  const max = Math.max(3, Math.floor(name.length / 2));
  const scored: Array<[number, string]> = [];
  for (const candidate of names) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase(), max);
    if (d <= max) scored.push([d, candidate]);
  }
  scored.sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : 1));
  return scored.slice(0, count).map(([, n]) => n);
}
