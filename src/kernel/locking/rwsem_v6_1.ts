// The v6.1 rw_semaphore: v6.6's algorithm (rwsem_v6_6.ts) before b613c7f31476 (v6.2, "Prevent
// non-first waiter from spinning in down_write() slowpath"): a non-first writer that sets the
// handoff bit marks *itself* handoff_set and spins on the owner, though rwsem_try_write_lock()
// will refuse it while the first waiter's handoff_set stands; the first waiter inherits a handoff
// bit set by someone else.

import { mem } from '../../shm/arena.js';
import { TASK } from '../task_struct.js';
import type { RwsemOps } from './rwsem_ops.js';
import { type HandoffMarks, rwsemTree, tryWriteLockWith } from './rwsem_v6_6.js';

const HANDOFF_MARKS_V6_1: HandoffMarks = {
  onHandoffBit(waiter, first) {
    const i32 = mem.i32;
    if (i32[first + TASK.w_handoff_set] && waiter !== first) return false;
    // The first waiter inherits a handoff bit another waiter set and may spin on the rwsem.
    if (waiter === first) i32[waiter + TASK.w_handoff_set] = 1;
    return true;
  },
  marks: (waiter) => waiter, // b613c7f31476 makes this the first waiter
};

// kernel/locking/rwsem.c rwsem_try_write_lock(), v6.1 (caller holds wait_lock)
export function rwsem_try_write_lock_v6_1(sem: number, waiter: number): boolean {
  return tryWriteLockWith(sem, waiter, HANDOFF_MARKS_V6_1);
}

/** The v6.1 rw_semaphore (as released in 6.1.0; 6.1.y later took b613c7f31476). */
export const rwsem_v6_1: RwsemOps = rwsemTree('rwsem.c (v6.1)', rwsem_try_write_lock_v6_1);
