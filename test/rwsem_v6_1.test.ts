// The v6.1 rw_semaphore against v6.6's: they differ only in rwsem_try_write_lock() (b613c7f31476,
// v6.2). In v6.1 a non-first writer that sets the handoff bit marks itself handoff_set (and would
// spin on the owner in the slow path) and the first waiter inherits the bit; in v6.6 the mark goes
// to the first waiter. White-box, on the boot CPU: waiters queued as the slow path queues them.
import { describe, expect, it } from 'vitest';
import { mm_alloc, spawnTask } from '../src/kernel/fork.js';
import {
  init_rwsem,
  RWSEM,
  RWSEM_FLAG_HANDOFF,
  RWSEM_FLAG_WAITERS,
  RWSEM_WAITING_FOR_WRITE,
  RWSEM_WRITER_LOCKED,
} from '../src/kernel/locking/rwsem.js';
import { rwsemOps } from '../src/kernel/locking/rwsem_ops.js';
import { rwsem_try_write_lock_v6_1 } from '../src/kernel/locking/rwsem_v6_1.js';
import { rwsem_try_write_lock } from '../src/kernel/locking/rwsem_v6_6.js';
import { rwsem_add_waiter } from '../src/kernel/locking/rwsem_wait_list.js';
import { TASK } from '../src/kernel/task_struct.js';
import { jiffies } from '../src/kernel/time.js';
import { MM } from '../src/mm/mm_types.js';
import { mem } from '../src/shm/arena.js';
import { boot } from './helpers/boot.js';

const m = () => mem.i32;
const handoffSet = (t: number) => m()[t + TASK.w_handoff_set];

/** A write-held rwsem with writers `first` and `second` queued; `second` has waited too long. */
function twoQueuedWriters(era: string) {
  boot(era);
  const sem = mm_alloc() + MM.mmap_sem;
  init_rwsem(sem);
  Atomics.store(m(), sem + RWSEM.count, RWSEM_WRITER_LOCKED | RWSEM_FLAG_WAITERS);
  const [first, second] = [spawnTask('w1'), spawnTask('w2')];
  for (const [t, timeout] of [
    [first, jiffies() + 1000],
    [second, jiffies() - 1],
  ] as const) {
    m()[t + TASK.w_task] = t;
    m()[t + TASK.w_type] = RWSEM_WAITING_FOR_WRITE;
    m()[t + TASK.w_timeout] = timeout | 0;
    m()[t + TASK.w_handoff_set] = 0;
    rwsem_add_waiter(sem, t);
  }
  return { sem, first, second };
}

describe('rwsem_try_write_lock: v6.1 against v6.6', () => {
  it('the eras install their own rwsem', () => {
    boot('v6.1');
    expect(rwsemOps.name).toBe('rwsem.c (v6.1)');
    boot('v6.6');
    expect(rwsemOps.name).toBe('rwsem.c (v6.6)');
  });

  it('v6.1: a timed-out non-first writer sets HANDOFF and marks itself handoff_set', () => {
    const { sem, first, second } = twoQueuedWriters('v6.1');
    expect(rwsem_try_write_lock_v6_1(sem, second)).toBe(false);
    expect(Atomics.load(m(), sem + RWSEM.count) & RWSEM_FLAG_HANDOFF).toBe(RWSEM_FLAG_HANDOFF);
    expect([handoffSet(first), handoffSet(second)]).toEqual([0, 1]);
    // The first waiter inherits the bit on its next try; then the second is refused outright.
    expect(rwsem_try_write_lock_v6_1(sem, first)).toBe(false);
    expect(handoffSet(first)).toBe(1);
  });

  it('v6.6: the same try marks the first waiter, never the caller', () => {
    const { sem, first, second } = twoQueuedWriters('v6.6');
    expect(rwsem_try_write_lock(sem, second)).toBe(false);
    expect(Atomics.load(m(), sem + RWSEM.count) & RWSEM_FLAG_HANDOFF).toBe(RWSEM_FLAG_HANDOFF);
    expect([handoffSet(first), handoffSet(second)]).toEqual([1, 0]);
  });

  it('once the holder is gone, v6.1 lets the waiter that set HANDOFF take it; v6.6 keeps it for the first', () => {
    const v61 = twoQueuedWriters('v6.1');
    rwsem_try_write_lock_v6_1(v61.sem, v61.second);
    Atomics.and(m(), v61.sem + RWSEM.count, ~RWSEM_WRITER_LOCKED);
    expect(rwsem_try_write_lock_v6_1(v61.sem, v61.second)).toBe(true);
    const c61 = Atomics.load(m(), v61.sem + RWSEM.count);
    expect(c61 & (RWSEM_WRITER_LOCKED | RWSEM_FLAG_HANDOFF)).toBe(RWSEM_WRITER_LOCKED);

    const v66 = twoQueuedWriters('v6.6');
    rwsem_try_write_lock(v66.sem, v66.second);
    Atomics.and(m(), v66.sem + RWSEM.count, ~RWSEM_WRITER_LOCKED);
    expect(rwsem_try_write_lock(v66.sem, v66.second)).toBe(false);
    expect(rwsem_try_write_lock(v66.sem, v66.first)).toBe(true);
    const c66 = Atomics.load(m(), v66.sem + RWSEM.count);
    expect(c66 & (RWSEM_WRITER_LOCKED | RWSEM_FLAG_HANDOFF)).toBe(RWSEM_WRITER_LOCKED);
  });
});
