// include/linux/rcuwait.h and kernel/exit.c: struct rcuwait, one word holding the waiting task
// (0: nobody). A writer of a per-VMA lock (v6.15, mm->vma_writer_wait) sleeps on it until the
// readers have dropped their references; the last reader wakes it.
import { point } from '../cpu/context.js';
import { mem } from '../shm/arena.js';
import { rcu_read_lock, rcu_read_unlock } from './rcu/update.js';
import { get_current, schedule, set_current_state, wake_up_process } from './sched.js';
import { TASK_RUNNING } from './task_struct.js';

// include/linux/rcuwait.h rcuwait_init(), v5.7
export function rcuwait_init(w: number): void {
  Atomics.store(mem.i32, w, 0);
}

// kernel/exit.c rcuwait_wake_up(), v5.7: 1 when a task was woken.
export function rcuwait_wake_up(w: number): number {
  // smp_mb(): pairs with set_current_state() in rcuwait_wait_event() (sequential consistency here).
  rcu_read_lock();
  const task = Atomics.load(mem.i32, w); // rcu_dereference(w->task)
  const ret = task ? (wake_up_process(task) ? 1 : 0) : 0;
  rcu_read_unlock();
  return ret;
}

// include/linux/rcuwait.h rcuwait_wait_event(w, condition, state), v5.7 (prepare_to_rcuwait() /
// finish_rcuwait()): one waiter at a time, as the kernel's users guarantee (here mmap_lock held for
// writing).
export function rcuwait_wait_event(w: number, condition: () => boolean, state: number): void {
  Atomics.store(mem.i32, w, get_current()); // rcu_assign_pointer(w->task, current)
  for (;;) {
    set_current_state(state);
    if (condition()) break;
    point('rcuwait_wait_event:schedule');
    schedule();
  }
  Atomics.store(mem.i32, w, 0); // finish_rcuwait(): rcu_assign_pointer(w->task, NULL)
  set_current_state(TASK_RUNNING);
}
