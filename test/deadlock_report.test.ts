// The controlled runner's deadlock report: each CPU's task, the lock it waits on and the mode, who
// holds that lock (every reader, with lockdep), and every task's held locks.
import { afterEach, describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { DEADLOCK_BLOCKED } from '../src/cpu/controlled.js';
import { deadlock_report } from '../src/kernel/deadlock_report.js';
import { mm_alloc, spawnTask } from '../src/kernel/fork.js';
import { lockdep_enable } from '../src/kernel/locking/lockdep_state.js';
import { down_read, init_rwsem } from '../src/kernel/locking/rwsem.js';
import { TASK } from '../src/kernel/task_struct.js';
import { MM } from '../src/mm/mm_types.js';
import { mem } from '../src/shm/arena.js';
import { boot } from './helpers/boot.js';
import { queueWaiter } from './helpers/rwsem_waiter.js';

afterEach(() => lockdep_enable(false));

/** Two readers hold `sem`; a writer sleeps in down_write() behind them, as the slow path leaves it. */
function readersAndWriter(lockdep: boolean) {
  boot('v6.6'); // v6.6's rwsem: queueWaiter() sets RWSEM_FLAG_WAITERS, the owner names the last reader
  lockdep_enable(lockdep);
  const sem = mm_alloc() + MM.mmap_sem;
  init_rwsem(sem, 'test_sem');
  const r1 = spawnTask('reader1');
  const r2 = spawnTask('reader2');
  for (const r of [r1, r2]) {
    cpuCtx.current = r;
    down_read(sem);
  }
  const w = spawnTask('writer');
  queueWaiter(sem, w, true);
  cpuCtx.current = 0;
  const pid = (t: number) => Atomics.load(mem.i32, t + TASK.pid);
  return { sem, r1, r2, w, pid };
}

describe('deadlock report', () => {
  it('with lockdep: the waiter, its mode, every reader holding the lock, all held locks', () => {
    const { r1, r2, w, pid } = readersAndWriter(true);
    const lines = deadlock_report(
      [
        { cpu: 0, task: w, state: 'waiting', word: 0 },
        { cpu: 1, task: r1, state: 'exited', word: 0 },
      ],
      DEADLOCK_BLOCKED,
    );
    expect(lines[0]).toBe('INFO: deadlock: no CPU can run and no timer is pending');
    expect(lines[1]).toMatch(
      new RegExp(`^CPU0: task writer:${pid(w)} blocked in down_write\\(\\) on rw_semaphore test_sem `),
    );
    expect(lines[2]).toBe(`  held by: reader1/${pid(r1)} (R), reader2/${pid(r2)} (R)`);
    expect(lines[3]).toBe(`  queue: writer/${pid(w)} (W)`);
    expect(lines[4]).toBe(`CPU1: task reader1:${pid(r1)} has finished`);
    expect(lines).toContain(`1 lock held by reader2/${pid(r2)}:`);
    expect(lines.some((l) => /^ #0: [0-9a-f]{8} \(test_sem\)/.test(l))).toBe(true);
  });

  it('without lockdep: the reader count and the last reader, and says lockdep is off', () => {
    const { r2, w } = readersAndWriter(false);
    const lines = deadlock_report([{ cpu: 0, task: w, state: 'waiting', word: 0 }], DEADLOCK_BLOCKED);
    expect(lines[2]).toMatch(/held by: 2 reader\(s\), the last reader2\/\d+/);
    expect(lines).toContain('INFO: lockdep is turned off.');
    expect(r2).toBeGreaterThan(0);
  });
});
