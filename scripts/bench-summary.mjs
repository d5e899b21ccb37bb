// The table `npm run bench` ends with: each benchmark's key figures as ratios to the baseline it
// measured beside them in the same run, and the goal (issues 10, 12, 14) or the published figure
// each is held to. Every benchmark's run() returns its rows; bench.mjs prints them together.

/**
 * One line: `value` of `figure` against `baseline` (a ratio as `1.23x`, or a figure with its
 * unit), `goal` the target or the published figure, `met` true/false, or null where the goal is a
 * comparison rather than a pass mark (a published shape) or the figure was not measured.
 */
export function summaryRow(bench, figure, value, baseline, goal = '', met = null, note = null) {
  return { bench, figure, value, baseline, goal, met, note };
}

/** The upper median (the middle element, or the higher of the middle two): what the benchmarks report. */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export const times = (r) => (r === null || r === undefined || !Number.isFinite(r) ? '—' : `${r.toFixed(2)}x`);

export function printSummary(rows, seconds) {
  const head = ['bench', 'figure', 'value', 'vs', 'goal / published', ''];
  const notes = [];
  const cells = rows.map((r) => [
    r.bench,
    r.figure,
    r.note ? `${r.value} [${notes.push(r.note)}]` : r.value,
    r.baseline,
    r.goal,
    r.met === null ? '' : r.met ? 'met' : 'MISSED',
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => String(c[i]).length)));
  const line = (c) =>
    c
      .map((v, i) => String(v).padEnd(w[i]))
      .join('  ')
      .trimEnd();
  console.log('');
  console.log(
    `=== summary: every benchmark's figures beside its same-run baseline (${seconds.toFixed(0)} s)`,
  );
  console.log(line(head));
  console.log(line(w.map((n) => '-'.repeat(n))));
  for (const c of cells) console.log(line(c));
  for (const [i, n] of notes.entries()) console.log(`[${i + 1}] ${n}`);
}
