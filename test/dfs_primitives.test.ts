// Every lock primitive, checked by bounded DFS over its whole schedule space: `mmrace run
// <fixture> --strategy dfs` on small fixtures (test/fixtures/dfs-*.mjs, 3 CPUs, 1-2 acquisitions
// per CPU) whose critical sections check their invariant and print 'BUG: ...' when it breaks. A
// clean verdict is only worth something if the space was exhausted (runs below the cap) and is
// not trivially small (explored above a bound well under the measured count), and if a broken
// variant of the same fixture is caught; each failing schedule must then replay.
// CI's size: the correct variants' whole spaces with 1 preemption, measured on the 2-core host
// (explored schedules): dfs-rwsem readers 128, writers 128, dfs-rwsem-downgrade 80,
// dfs-rwsem-trylock 104, dfs-seqcount 102, dfs-spinlock 114 and shared 114, dfs-rcu 371; the
// broken variants' searches with 2 (stopping at the first failing schedule), and dfs-seqcount's
// whole space with 2 at both granularities (952 coarse, 1320 atomic). Every whole space with 2
// preemptions, at both granularities, is `npm run test:exhaustive` (dfs-rwsem readers 2386,
// writers 2628, dfs-rwsem-downgrade 865, dfs-rwsem-trylock 1442, dfs-spinlock 1374 and 1128,
// dfs-rcu 12060). The variants of one fixture run in one command (helpers/dfs.ts dfsBatch).
// All fixtures have 3 CPUs. dfs-spinlock 'shared' puts all three on one ticket lock, twice each:
// a waiter queues behind a waiter, which made dfs livelock until the controlled runner took the
// choice among spinners away from the strategy.
import { describe, expect, it } from 'vitest';
import { dfsAsync, dfsBatches, expectCleanSpace, fixture, rowAsync } from './helpers/dfs.js';

const TEST_TIMEOUT_MS = 60_000;

// [fixture, variant, what it checks, lower bound on explored schedules (measured count above)]
const CLEAN: [string, string, string, number][] = [
  ['dfs-rwsem', 'readers', 'rwsem, 2 readers + 1 writer, 2 acquisitions each', 60],
  ['dfs-rwsem', 'writers', 'rwsem, 1 reader + 2 writers, 2 acquisitions each', 60],
  ['dfs-rwsem-downgrade', 'correct', 'downgrade_write lets the queued reader in and no writer', 40],
  ['dfs-rwsem-trylock', 'correct', 'rwsem trylocks mixed with blocking down_read/down_write', 50],
  ['dfs-seqcount', 'correct', 'seqcount reader vs 2 spinlock-serialized writers', 50],
  ['dfs-spinlock', 'correct', 'ticket spinlock, 3 CPUs, one lock per CPU pair', 55],
  ['dfs-spinlock', 'shared', 'ticket spinlock, 3 CPUs on one lock, twice each', 55],
  ['dfs-rcu', 'correct', 'RCU reader vs synchronize_rcu + kfree_rcu (GP kthread on CPU2)', 180],
];

// [fixture, variant, how it is broken, the report dfs must find]
const BROKEN: [string, string, string, RegExp][] = [
  ['dfs-rwsem', 'readers-busted', 'the writer takes down_read', /^BUG: rwsem exclusion violated/],
  ['dfs-rwsem', 'writers-busted', 'the writers take down_read', /^BUG: rwsem exclusion violated/],
  ['dfs-rwsem', 'readers-lost-wakeup', 'up_write never wakes', /^INFO: deadlock: no CPU can run/],
  [
    'dfs-rwsem-downgrade',
    'up-down',
    'downgrade as up_write + down_read',
    /^BUG: (rwsem exclusion violated|downgrade_write let a writer in)/,
  ],
  ['dfs-rwsem-downgrade', 'no-wake', 'downgrade wakes nobody', /^BUG: downgrade_write left a waiting reader/],
  ['dfs-rwsem-trylock', 'busted', 'a write trylock that ignores readers', /^BUG: rwsem exclusion violated/],
  ['dfs-seqcount', 'no-seqcount', 'writers never bump the sequence', /^BUG: seqcount reader saw a torn pair/],
  ['dfs-seqcount', 'no-retry', 'the reader never retries', /^BUG: seqcount reader saw a torn pair/],
  ['dfs-spinlock', 'no-lock', 'every CPU skips the lock', /^BUG: spinlock \w+ held by two CPUs/],
  ['dfs-rcu', 'no-sync', 'A freed without synchronize_rcu', /^BUG: KASAN: slab-use-after-free/],
  ['dfs-rcu', 'early-free', 'B freed at once instead of kfree_rcu', /^BUG: KASAN: slab-use-after-free/],
];

describe('bounded dfs (1 preemption) finds nothing in a correct primitive', () => {
  const clean = dfsBatches(CLEAN, ['--preemptions', '1']);
  for (const [name, variant, what, minExplored] of CLEAN) {
    it.concurrent(
      `${name} ${variant}: ${what}`,
      async () => {
        expectCleanSpace(await clean(name, variant), minExplored);
      },
      TEST_TIMEOUT_MS,
    );
  }
});

// --stop-on-hit: the search ends at the first failing schedule (the whole spaces of the broken
// variants, 192 to 12 876 schedules, are explored by `npm run test:exhaustive`).
describe('bounded dfs (2 preemptions) catches a broken variant of each fixture, and its schedule replays 10/10', () => {
  const broken = dfsBatches(BROKEN, ['--stop-on-hit']);
  for (const [name, variant, how, report] of BROKEN) {
    it.concurrent(
      `${name} ${variant} (${how})`,
      async () => {
        const r = await broken(name, variant);
        expect(r.observed).toBe('reproduces');
        expect(r.hits + r.checkFailures).toBe(1); // the campaign ended at its first failing run
        expect(r.firstHit!.summary).toMatch(report);
        expect(r.schedule).toMatch(/^S1Z?:3:[a-c]/);
        const args = ['run', fixture(name), '--replay', r.schedule!, '--variant', variant];
        const again = await rowAsync([...args, '--runs', '10', '--json']);
        expect(again).toMatchObject({
          observed: 'reproduces',
          strategy: 'replay',
          runs: 10,
          hits: 10,
          schedule: r.schedule,
          error: null,
        });
        expect(again.firstHit!.summary).toBe(r.firstHit!.summary);
      },
      TEST_TIMEOUT_MS,
    );
  }
});

// --points atomic: a decision before every shared access inside the primitives (as loom yields at
// every atomic). Measured: dfs-seqcount correct 952 schedules coarse, 1320 atomic (both clean);
// 'unserialized' (writers without the lock) 564 coarse / 1036 atomic.
describe('atomic granularity explores the windows inside the primitives', () => {
  const run = (variant: string, points: 'coarse' | 'atomic') =>
    dfsAsync('dfs-seqcount', variant, ['--points', points]);

  it.concurrent(
    'seqcount, correct: clean over a larger space than coarse',
    async () => {
      const [coarse, atomic] = await Promise.all([run('correct', 'coarse'), run('correct', 'atomic')]);
      expect(atomic).toMatchObject({ observed: 'clean', hits: 0, checkFailures: 0, points: 'atomic' });
      expect(atomic.explored).toBeGreaterThan(coarse.explored);
    },
    TEST_TIMEOUT_MS,
  );

  it.concurrent(
    "unserialized writers' lost sequence update: found only at atomic granularity, and it replays",
    async () => {
      // Coarse: each increment's load and store happen without a switch, so no update is lost.
      const [coarse, atomic] = await Promise.all([
        run('unserialized', 'coarse'),
        run('unserialized', 'atomic'),
      ]);
      expect(coarse).toMatchObject({ observed: 'reproduces', checkFailures: 0 });
      expect(atomic.checkFailures).toBeGreaterThan(0);
      expect(atomic.firstCheckFailure!.detail).toMatch(/^seq \d*[13579], lock free$/);
      const args = [
        'run',
        fixture('dfs-seqcount'),
        '--replay',
        atomic.schedule!,
        '--variant',
        'unserialized',
      ];
      const again = await rowAsync([...args, '--points', 'atomic', '--runs', '10', '--json']);
      expect(again).toMatchObject({ observed: 'reproduces', runs: 10, hits: 10, error: null });
    },
    TEST_TIMEOUT_MS,
  );
});
