// kernel/sched/wait.c: a wait queue head in shared memory (a small fixed set of sleepers), with
// wait_event() built the kernel's way: queue, set state, test, schedule, dequeue.
import { mem } from '../shm/arena.js';
import { spin_lock, spin_lock_init, spin_unlock } from './locking/spinlock.js';
import {
  get_current,
  schedule,
  schedule_timeout,
  set_current_state,
  signal_pending,
  wake_up_process,
} from './sched.js';
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

const ERESTARTSYS = 512;

// include/linux/wait.h wait_event_interruptible_timeout(wq, condition, timeout), v4.14: the
// jiffies left (at least 1) once the condition holds, 0 if the timeout elapsed first,
// -ERESTARTSYS if a signal came first.
export function wait_event_interruptible_timeout(
  wq: number,
  condition: () => boolean,
  timeout: number,
): number {
  let ret = timeout;
  // ___wait_cond_timeout(): a condition that became true as the timeout ran out still counts.
  const done = (): boolean => {
    const c = condition();
    if (c && !ret) ret = 1;
    return c || !ret;
  };
  if (done()) return ret;
  const me = get_current();
  add_wait_queue(wq, me);
  for (;;) {
    set_current_state(TASK_INTERRUPTIBLE);
    if (done()) break;
    if (signal_pending(me)) {
      ret = -ERESTARTSYS;
      break;
    }
    ret = schedule_timeout(ret);
  }
  set_current_state(TASK_RUNNING);
  remove_wait_queue(wq, me);
  return ret;
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

// include/linux/wait.h wake_up_all(): the queue has no exclusive waiters, so the same as wake_up().
export const wake_up_all = wake_up;
