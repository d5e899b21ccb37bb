// The v6.1 rw_semaphore: v6.6's algorithm (rwsem_v6_6.ts) before b613c7f31476 (v6.2, "Prevent
// non-first waiter from spinning in down_write() slowpath"): a non-first writer that sets the
// handoff bit marks *itself* handoff_set and spins on the owner, though rwsem_try_write_lock()
// will refuse it while the first waiter's handoff_set stands; the first waiter inherits a handoff
// bit set by someone else.

import { atomicPoint } from '../../cpu/context.js';
import { mem } from '../../shm/arena.js';
import { TASK } from '../task_struct.js';
import { jiffies, time_after } from '../time.js';
import { lockevent_inc } from './lock_events.js';
import type { RwsemOps } from './rwsem_ops.js';
import { cnt, rwsem_set_owner } from './rwsem_owner.js';
import {
  RWSEM_FLAG_HANDOFF,
  RWSEM_FLAG_WAITERS,
  RWSEM_LOCK_MASK,
  RWSEM_WRITER_LOCKED,
} from './rwsem_types.js';
import { rwsemTree } from './rwsem_v6_6.js';
import { list_del, rwsem_first_waiter } from './rwsem_wait_list.js';

// kernel/locking/rwsem.c rwsem_try_write_lock(), v6.1 (caller holds wait_lock)
export function rwsem_try_write_lock_v6_1(sem: number, waiter: number): boolean {
  const i32 = mem.i32;
  const first = rwsem_first_waiter(sem);
  let count = Atomics.load(i32, cnt(sem));
  let next: number;
  for (;;) {
    const has_handoff = (count & RWSEM_FLAG_HANDOFF) !== 0;
    if (has_handoff) {
      if (i32[first + TASK.w_handoff_set] && waiter !== first) return false;
      // The first waiter inherits a handoff bit another waiter set and may spin on the rwsem.
      if (waiter === first) i32[waiter + TASK.w_handoff_set] = 1;
    }
    next = count;
    if (count & RWSEM_LOCK_MASK) {
      if (has_handoff || !time_after(jiffies(), i32[waiter + TASK.w_timeout]!)) return false;
      next |= RWSEM_FLAG_HANDOFF;
    } else {
      next = (next | RWSEM_WRITER_LOCKED) & ~RWSEM_FLAG_HANDOFF;
      if (first === waiter && i32[waiter + TASK.w_next] === 0) next &= ~RWSEM_FLAG_WAITERS;
    }
    atomicPoint('rwsem_try_write_lock:cmpxchg');
    const seen = Atomics.compareExchange(i32, cnt(sem), count, next);
    if (seen === count) break;
    count = seen;
  }
  if (next & RWSEM_FLAG_HANDOFF) {
    i32[waiter + TASK.w_handoff_set] = 1; // b613c7f31476 makes this first->handoff_set
    lockevent_inc('rwsem_wlock_handoff');
    return false;
  }
  list_del(sem, waiter);
  rwsem_set_owner(sem);
  return true;
}

/** The v6.1 rw_semaphore (as released in 6.1.0; 6.1.y later took b613c7f31476). */
export const rwsem_v6_1: RwsemOps = rwsemTree('rwsem.c (v6.1)', rwsem_try_write_lock_v6_1);
