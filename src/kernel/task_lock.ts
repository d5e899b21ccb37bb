// include/linux/sched/task.h (v4.14): task_lock()/task_unlock(), the spinlock in task_struct
// (alloc_lock) that keeps a task's ->mm (and ->comm, ->fs...) stable for other tasks' readers.
import { spin_lock, spin_unlock } from './locking/spinlock.js';
import { TASK } from './task_struct.js';

// include/linux/sched/task.h task_lock(), v4.14
export function task_lock(p: number): void {
  spin_lock(p + TASK.alloc_lock);
}

// include/linux/sched/task.h task_unlock(), v4.14
export function task_unlock(p: number): void {
  spin_unlock(p + TASK.alloc_lock);
}
