// The per-VMA lock soak, short: scripts/vma-lock-soak.mjs for 1 s per generation (free mode, 3
// faulting CPUs against an mmap/munmap/mprotect CPU, seed 1): zero checks fired (but for the
// rfc-2022-09 finding below), the per-VMA path
// taken in the generations (VMA_LOCK_SUCCESS > 0) and never in v6.1 (no per-VMA locks). `npm run soak:vma` is
// the 10 s run.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));

it('vma-lock-soak, 1 s per generation: zero checks fired, counters per generation', () => {
  const r = spawnSync(process.execPath, ['scripts/vma-lock-soak.mjs', '--seconds', '1', '--json'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status).toBe(0);
  const { rows } = JSON.parse(r.stdout) as {
    rows: {
      variant: string;
      runs: number;
      fired: number;
      errors: number;
      first: string | null;
      VMA_LOCK_SUCCESS: number;
    }[];
  };
  for (const row of rows) {
    console.log(`vma-lock-soak ${row.variant}: ${row.runs} runs, ${row.fired} fired, ${JSON.stringify(row)}`);
    expect(row.runs).toBeGreaterThan(0);
    expect(row.errors).toBe(0);
    // rfc-2022-09 as posted does not re-check the VMA's bounds once locked (v2 added that): a
    // reader that found a VMA before munmap()/mprotect() shrank it can lock it after the bump and
    // fault outside it (vma-lock-rfc-bounds). The soak saw it 37 times in 4,450 runs (10 s), about
    // 4 in a 1 s run, too few to require; reported, not hidden.
    if (row.variant === 'rfc-2022-09' && row.fired)
      expect(row.first).toContain('a VMA that does not cover the address');
    else expect(row.fired).toBe(0);
    if (row.variant === 'v6.1') expect(row.VMA_LOCK_SUCCESS).toBe(0);
    else expect(row.VMA_LOCK_SUCCESS).toBeGreaterThan(0);
  }
  expect(rows.map((x) => x.variant)).toEqual(['v6.1', 'rfc-2022-09', 'v6.4', 'v6.6', 'v6.15']);
}, 60_000);
