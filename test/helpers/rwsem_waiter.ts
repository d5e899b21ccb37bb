// A task queued by hand on an rw_semaphore's empty wait list, as the down_read()/down_write() slow
// path leaves a sleeper: for unit tests of what reads the wait list (the deadlock report, khungtaskd).
import {
  RWSEM,
  RWSEM_FLAG_WAITERS,
  RWSEM_WAITING_FOR_READ,
  RWSEM_WAITING_FOR_WRITE,
} from '../../src/kernel/locking/rwsem.js';
import { rwsemOps } from '../../src/kernel/locking/rwsem_ops.js';
import { TASK } from '../../src/kernel/task_struct.js';
import { mem } from '../../src/shm/arena.js';

/** Makes `task` the only waiter on `sem`, a reader or (`write`) a writer, and sets RWSEM_FLAG_WAITERS. */
export function queueWaiter(sem: number, task: number, write: boolean): void {
  const m = mem.i32;
  // The xadd rwsem (v4.x eras) counts waiters with RWSEM_WAITING_BIAS, not a flag bit.
  if (rwsemOps.source !== 'kernel/locking/rwsem.c') throw new Error(`queueWaiter: ${rwsemOps.name}`);
  if (m[sem + RWSEM.wait_first] !== 0) throw new Error('queueWaiter: the wait list is not empty');
  m[task + TASK.w_task] = task;
  m[task + TASK.w_type] = write ? RWSEM_WAITING_FOR_WRITE : RWSEM_WAITING_FOR_READ;
  m[task + TASK.w_lock] = sem;
  m[sem + RWSEM.wait_first] = task;
  m[sem + RWSEM.wait_last] = task;
  Atomics.or(m, sem + RWSEM.count, RWSEM_FLAG_WAITERS);
}
