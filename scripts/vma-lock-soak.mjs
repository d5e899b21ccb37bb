// npm run soak:vma -- [--seconds S] [--batch N] [--seed s] [--json]
// The per-VMA lock soak (src/scenarios/vma-lock-soak.ts): 3 CPUs faulting against an
// mmap/munmap/mprotect CPU, truly in parallel (free mode), S seconds per generation (v6.1's
// mmap_lock path, rfc-2022-09, v6.4, v6.6, v6.15). One row per generation: runs, faults' VMA_LOCK_*
// counters summed over the runs, checks fired. Exit 1 when a check fired in a generation the
// scenario expects clean (all but the RFC as posted: vma-lock-rfc-bounds) or a run failed.
import { runVariant, sharedMachine, shutdownMachine } from '../dist/src/scenarios/campaign.js';
import { findScenario } from '../dist/src/scenarios/catalogue.js';
import { takeVmaLockSoakTotals } from '../dist/src/scenarios/vma-lock-soak.js';

const o = { seconds: 10, batch: 50, seed: 1, json: false };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--json') o.json = true;
  else if (['--seconds', '--batch', '--seed'].includes(a)) {
    const n = Number(argv[++i]);
    if (!Number.isFinite(n) || n < 0) {
      console.error(`${a} needs a number`);
      process.exit(2);
    }
    o[a.slice(2)] = n;
  } else {
    console.error('usage: npm run soak:vma -- [--seconds S] [--batch N] [--seed s] [--json]');
    process.exit(2);
  }
}

const entry = findScenario('vma-lock-soak');
const s = entry.scenario;
const machine = sharedMachine();
const rows = [];
let bad = 0;
try {
  for (const variant of s.variants) {
    takeVmaLockSoakTotals();
    const row = {
      variant: variant.name,
      era: variant.era,
      expected: variant.expected,
      runs: 0,
      fired: 0,
      errors: 0,
      first: null,
      wallMs: 0,
    };
    const t0 = performance.now();
    while (performance.now() - t0 < o.seconds * 1000) {
      const r = await runVariant(machine, s, variant, { runs: o.batch, seed: o.seed + row.runs }, entry.url);
      row.runs += r.runs;
      row.fired += r.hits + r.checkFailures;
      row.first ??= r.firstHit?.summary ?? r.firstCheckFailure?.detail ?? null;
      if (r.error) {
        row.errors++;
        row.first ??= r.error;
        break;
      }
    }
    row.wallMs = Math.round(performance.now() - t0);
    Object.assign(row, takeVmaLockSoakTotals(), { runs: row.runs });
    // The RFC as posted may fire (vma-lock-rfc-bounds: a soak is not required to find it); the
    // released generations must not.
    if (row.errors || (row.fired > 0 && variant.expected === 'clean')) bad++;
    rows.push(row);
    if (!o.json) process.stderr.write(`${variant.name}: ${row.runs} runs, ${row.fired} fired\n`);
  }
} finally {
  await shutdownMachine();
}

if (o.json) console.log(JSON.stringify({ seconds: o.seconds, rows }, null, 2));
else {
  const pad = (x, n) => String(x).padEnd(n);
  console.log(
    `${pad('generation', 13)}${pad('runs', 7)}${pad('fault calls', 12)}${pad('SUCCESS', 9)}${pad('ABORT', 8)}${pad('RETRY', 7)}${pad('MISS', 6)}${pad('fired', 7)}time`,
  );
  for (const r of rows) {
    const faults = r.runs * 3 * 48;
    console.log(
      `${pad(r.variant, 13)}${pad(r.runs, 7)}${pad(faults, 12)}${pad(r.VMA_LOCK_SUCCESS, 9)}${pad(r.VMA_LOCK_ABORT, 8)}${pad(r.VMA_LOCK_RETRY, 7)}${pad(r.VMA_LOCK_MISS, 6)}${pad(r.fired + r.errors, 7)}${(r.wallMs / 1000).toFixed(1)}s${r.first ? `  first: ${r.first}` : ''}`,
    );
  }
  console.log(
    bad
      ? `\n${bad} generation(s) expected clean fired a check or failed`
      : '\nevery generation as expected: zero checks fired in the released ones',
  );
}
process.exitCode = bad ? 1 : 0;
