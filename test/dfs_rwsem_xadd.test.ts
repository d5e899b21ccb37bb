// v4.14's rw_semaphore (rwsem-xadd.c + x86's asm/rwsem.h, src/kernel/locking/rwsem_xadd.ts) under
// bounded DFS, as test/dfs_primitives.test.ts checks v6.6's: `mmrace run <fixture> --strategy dfs`
// at the default coarse granularity, every space exhausted and clean, above a floor well under
// the measured count, and a broken fast path caught (2 preemptions) and replayed 10/10. Each
// explored count is printed. CI's size is 1 preemption, measured on the 2-core host (explored
// schedules): dfs-rwsem-xadd readers 146, writers 134, mixed 139, readers-spinning 146,
// writers-spinning 130, mixed-spinning 138; dfs-rwsem-downgrade xadd 80, dfs-rwsem-trylock xadd 107.
// With 2 (`npm run test:exhaustive`): 3046, 2798, 2855, 3006, 2288, 2724; 845 and 1521. The
// variants of one fixture run in one command (helpers/dfs.ts dfsBatch).
import { describe, expect, it } from 'vitest';
import { dfsAsync, dfsBatches, expectCleanSpace, expectReplaysTenOfTen } from './helpers/dfs.js';

const TEST_TIMEOUT_MS = 90_000;

// [fixture, variant, what, floor on explored schedules (measured counts in the header)]
const CLEAN: [string, string, string, number][] = [
  ['dfs-rwsem-xadd', 'readers', '2 readers + 1 writer, 2 acquisitions each', 70],
  ['dfs-rwsem-xadd', 'writers', '1 reader + 2 writers', 60],
  ['dfs-rwsem-xadd', 'mixed', 'a reader, a writer, a CPU that reads then writes', 60],
  ['dfs-rwsem-xadd', 'readers-spinning', 'readers, writers spinning behind the OSQ', 70],
  ['dfs-rwsem-xadd', 'writers-spinning', 'two writers spinning behind the OSQ', 60],
  ['dfs-rwsem-xadd', 'mixed-spinning', 'mixed, with spinning', 60],
  ['dfs-rwsem-downgrade', 'xadd', 'downgrade_write lets the head reader in and no writer', 30],
  ['dfs-rwsem-trylock', 'xadd', 'x86 trylocks mixed with blocking down_read/down_write', 45],
];

describe("bounded dfs (1 preemption) finds nothing in v4.14's rw_semaphore", () => {
  const clean = dfsBatches(CLEAN, ['--preemptions', '1']);
  for (const [fixture, variant, what, floor] of CLEAN) {
    it.concurrent(
      `${fixture} ${variant}: ${what}`,
      async () => {
        expectCleanSpace(await clean(fixture, variant), floor);
      },
      TEST_TIMEOUT_MS,
    );
  }
});

describe('bounded dfs catches a broken xadd fast path', () => {
  it.concurrent(
    'readers-busted: ____down_write() testing the waiting half lets a writer in beside readers; the schedule replays 10/10',
    async () => {
      const r = await dfsAsync('dfs-rwsem-xadd', 'readers-busted', ['--stop-on-hit']);
      expect(r.observed).toBe('reproduces');
      expect(r.firstHit!.summary).toMatch(
        /^BUG: rwsem exclusion violated: writer entered readers=1 writers=1/,
      );
      await expectReplaysTenOfTen('test/fixtures/dfs-rwsem-xadd.mjs', 'readers-busted', r);
    },
    TEST_TIMEOUT_MS,
  );
});
