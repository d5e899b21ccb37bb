// The per-VMA lock soak, short: scripts/vma-lock-soak.mjs for 1 s per generation (free mode, 3
// faulting CPUs against an mmap/munmap/mprotect CPU, seed 1): zero checks fired (but for the
// rfc-2022-09 finding below), the per-VMA path
// taken in the three generations (VMA_LOCK_SUCCESS > 0) and never in v6.6. `npm run soak:vma` is
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
    // rfc-2022-09 has no detached flag (v2 of the series added it): a reader that found a VMA
    // before munmap removed it can take its lock after mmap_write_unlock()'s bump and fault on a
    // VMA no longer in the tree. The soak saw it 2 times in 3,500 runs (10 s); reported, not hidden.
    if (row.variant === 'rfc-2022-09' && row.fired)
      expect(row.first).toContain('a VMA that is not in the tree');
    else expect(row.fired).toBe(0);
    if (row.variant === 'v6.6') expect(row.VMA_LOCK_SUCCESS).toBe(0);
    else expect(row.VMA_LOCK_SUCCESS).toBeGreaterThan(0);
  }
  expect(rows.map((x) => x.variant)).toEqual(['v6.6', 'rfc-2022-09', 'v6.4', 'v6.15']);
}, 60_000);
