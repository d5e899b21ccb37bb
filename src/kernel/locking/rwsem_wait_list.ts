// sem->wait_list, shared by both rwsem algorithms: a FIFO of the waiting tasks' embedded
// rwsem_waiter records (TASK.w_*), head and tail in the rw_semaphore. Changed only under wait_lock;
// the debug view reads it with Atomics from anywhere.
import { mem } from '../../shm/arena.js';
import { TASK } from '../task_struct.js';
import { RWSEM, RWSEM_WAITING_FOR_WRITE } from './rwsem_types.js';

export function rwsem_first_waiter(sem: number): number {
  return mem.i32[sem + RWSEM.wait_first]!;
}

export function list_empty(sem: number): boolean {
  return mem.i32[sem + RWSEM.wait_first] === 0;
}

export function list_is_singular(sem: number): boolean {
  const first = mem.i32[sem + RWSEM.wait_first]!;
  return first !== 0 && first === mem.i32[sem + RWSEM.wait_last];
}

export function wait_list_init(sem: number): void {
  Atomics.store(mem.i32, sem + RWSEM.wait_first, 0);
  Atomics.store(mem.i32, sem + RWSEM.wait_last, 0);
}

/** list_add_tail(&waiter->list, &sem->wait_list); w_lock records the rwsem for the reports. */
export function rwsem_add_waiter(sem: number, w: number): void {
  const i32 = mem.i32;
  const last = i32[sem + RWSEM.wait_last]!;
  i32[w + TASK.w_next] = 0;
  i32[w + TASK.w_prev] = last;
  if (last) i32[last + TASK.w_next] = w;
  else i32[sem + RWSEM.wait_first] = w;
  i32[sem + RWSEM.wait_last] = w;
  i32[w + TASK.w_lock] = sem;
}

export function list_del(sem: number, w: number): void {
  const i32 = mem.i32;
  const next = i32[w + TASK.w_next]!;
  const prev = i32[w + TASK.w_prev]!;
  if (prev) i32[prev + TASK.w_next] = next;
  else i32[sem + RWSEM.wait_first] = next;
  if (next) i32[next + TASK.w_prev] = prev;
  else i32[sem + RWSEM.wait_last] = prev;
  i32[w + TASK.w_lock] = 0;
}

/** Debug view for deadlock and hung-task reports: the tasks queued on `sem`, head first. */
export function rwsem_waiters(sem: number): { task: number; write: boolean }[] {
  const out: { task: number; write: boolean }[] = [];
  const i32 = mem.i32;
  for (let w = Atomics.load(i32, sem + RWSEM.wait_first), n = 0; w !== 0 && n < 4096; n++) {
    out.push({ task: w, write: i32[w + TASK.w_type] === RWSEM_WAITING_FOR_WRITE });
    w = Atomics.load(i32, w + TASK.w_next);
  }
  return out;
}
