// "Did you mean ...?" for a mistyped name: a command, a scenario field.

/** The candidate closest to `word` (edit distance at most 2 ignoring case, or a prefix), if any. */
export function suggestSimilar(word: string, candidates: readonly string[]): string | null {
  const w = word.toLowerCase();
  let best: string | null = null;
  let bestD = 3;
  for (const c of candidates) {
    const lc = c.toLowerCase();
    const d = lc.startsWith(w) && w.length >= 2 ? 1 : editDistance(w, lc);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
