// kernel/sched/wait.c: a wait queue head in shared memory (a small fixed set of sleepers), with
// wait_event() built the kernel's way: queue, set state, test, schedule, dequeue.
import { mem } from '../shm/arena.js';
import { spin_lock, spin_lock_init, spin_unlock } from './locking/spinlock.js';
import { get_current, schedule, set_current_state, wake_up_process } from './sched.js';
import { TASK_INTERRUPTIBLE, TASK_RUNNING } from './task_struct.js';

export const WAITQ_SLOTS = 8;
/** struct wait_queue_head: lock, then WAITQ_SLOTS task slots (0 = empty). */
export const WAIT_QUEUE_HEAD_WORDS = 1 + WAITQ_SLOTS;

export function init_waitqueue_head(wq: number): void {
  spin_lock_init(wq, '&wq_head->lock');
  mem.i32.fill(0, wq + 1, wq + 1 + WAITQ_SLOTS);
}

function add_wait_queue(wq: number, t: number): void {
  spin_lock(wq);
  for (let i = 0; i < WAITQ_SLOTS; i++) {
    if (mem.i32[wq + 1 + i] === 0) {
      mem.i32[wq + 1 + i] = t;
      break;
    }
  }
  spin_unlock(wq);
}

function remove_wait_queue(wq: number, t: number): void {
  spin_lock(wq);
  for (let i = 0; i < WAITQ_SLOTS; i++) if (mem.i32[wq + 1 + i] === t) mem.i32[wq + 1 + i] = 0;
  spin_unlock(wq);
}

// include/linux/wait.h wait_event_interruptible(wq, condition)
export function wait_event_interruptible(wq: number, condition: () => boolean): void {
  if (condition()) return;
  const me = get_current();
  add_wait_queue(wq, me);
  for (;;) {
    set_current_state(TASK_INTERRUPTIBLE);
    if (condition()) break;
    schedule();
  }
  set_current_state(TASK_RUNNING);
  remove_wait_queue(wq, me);
}

// kernel/sched/wait.c __wake_up(): wake every sleeper on the queue.
export function wake_up(wq: number): void {
  const woken: number[] = [];
  spin_lock(wq);
  for (let i = 0; i < WAITQ_SLOTS; i++) {
    const t = mem.i32[wq + 1 + i]!;
    if (t) woken.push(t);
  }
  spin_unlock(wq);
  for (const t of woken) wake_up_process(t);
}
