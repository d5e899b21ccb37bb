// The maple tree's copy-on-write publication against an RCU reader on real CPUs, every schedule
// with up to 1 preemption here (bound 2 is `npm run test:exhaustive -- vma-tree-rcu`, figures
// below): test/fixtures/vma-tree-rcu.mjs (writer: mmap_anon_fixed + do_munmap
// under mmap_write_lock; reader: one walk of mm->mm_mt under rcu_read_lock; rcu_gp_kthread).
// A clean verdict counts only when the space was exhausted; the broken variants must be caught and
// their schedules replay 10/10. Measured on the 2-core host, `mmrace run test/fixtures/
// vma-tree-rcu.mjs --variant <v> --strategy dfs --preemptions 2 --runs 100000 --json`:
//   rcu-mode (v6.6) clean, 55623 schedules (43 s); no-grace-period (v6.6 out of RCU mode)
//   reproduces, 20878 explored, 1382 hits (15 s); v6.1 reproduces, 4018 explored, 530 hits (5 s);
//   v6.1-locked (the reader holds mmap_read_lock) clean, 4588 schedules (5 s). Bound 1: 838, 448
//   (14 hits), 216 (8 hits), 242 schedules, each under 2 s.
import { describe, expect, it } from 'vitest';
import { json, mmraceAsync } from './helpers/cli.js';
import { type DfsRow, expectReplaysTenOfTen, fixture } from './helpers/dfs.js';

const FIXTURE = fixture('vma-tree-rcu');
const CLI_TIMEOUT_MS = 60_000;

async function dfs(variant: string): Promise<DfsRow> {
  const args = ['run', FIXTURE, '--variant', variant, '--strategy', 'dfs', '--preemptions', '1'];
  const r = await mmraceAsync([...args, '--runs', '100000', '--json'], CLI_TIMEOUT_MS);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const [x] = json<{ rows: DfsRow[] }>(r).rows;
  expect(x!.strategy).toBe('dfs');
  expect(x!.error).toBeNull();
  expect(x!.runs).toBeLessThan(100_000); // dfs ran out of schedules, not the cap
  console.log(`dfs vma-tree-rcu ${variant}: ${x!.explored} schedules explored, ${x!.hits} hits`);
  return x!;
}

describe('vma-tree-rcu: bounded dfs (1 preemption)', () => {
  it.concurrent.each([
    ['rcu-mode', 'v6.6, the tree in RCU mode: retired nodes wait for the grace period', 500],
    ['v6.1-locked', 'v6.1, the reader holds mmap_read_lock', 150],
  ])(
    '%s (%s): clean over the whole space',
    async (variant, _what, minExplored) => {
      const r = await dfs(variant);
      expect(r).toMatchObject({
        observed: 'clean',
        hits: 0,
        checkFailures: 0,
        firstHit: null,
        schedule: null,
      });
      expect(r.explored).toBeGreaterThan(minExplored);
    },
    CLI_TIMEOUT_MS,
  );

  it.concurrent.each([
    ['no-grace-period', 'v6.6 with the tree out of RCU mode: the replaced node freed at once'],
    ['v6.1', 'v6.1 has no RCU mode: an RCU-only reader is unprotected'],
  ])(
    '%s (%s): caught, and the schedule replays 10/10',
    async (variant) => {
      const r = await dfs(variant);
      expect(r.observed).toBe('reproduces');
      expect(r.hits).toBeGreaterThan(0);
      expect(r.firstHit!.summary).toBe('BUG: KASAN: slab-use-after-free in mas_find');
      await expectReplaysTenOfTen(FIXTURE, variant, r);
    },
    CLI_TIMEOUT_MS,
  );
});
