// kernel/hung_task.c (v6.6): khungtaskd's check. A task in TASK_UNINTERRUPTIBLE that has not been
// switched in for `timeout` seconds is reported with the locks it waits on and every held lock.
// Sits beside fork.ts (above mm): it walks the task_struct cache as for_each_process_thread does.

import { kmem_cache_live_objects } from '../mm/slab.js';
import { mem } from '../shm/arena.js';
import { defineStatics } from '../shm/statics.js';
import { lockLabel, rwsemHolders, rwsemQueue } from './deadlock_report.js';
import { task_struct_cachep } from './fork.js';
import { lockdep_print_held_locks } from './locking/lockdep_report.js';
import { lockdepEnabled } from './locking/lockdep_state.js';
import { RWSEM } from './locking/rwsem.js';
import { print_tainted } from './panic.js';
import { hex8, KERN_ERR, printk } from './printk.js';
import {
  TASK,
  TASK_NOLOAD,
  TASK_UNINTERRUPTIBLE,
  TASK_WAKEKILL,
  task_comm,
  task_pid,
} from './task_struct.js';
import { HZ, jiffies } from './time.js';
import { utsname } from './utsname.js';

export const HUNG_TASK = defineStatics('hung_task', ['warnings']);

/** sysctl_hung_task_warnings: how many reports before going quiet (10 in the kernel). */
export function hung_task_reset(warnings = 10): void {
  Atomics.store(mem.i32, HUNG_TASK.base() + HUNG_TASK.layout.warnings, warnings);
}

/** What a blocked task waits on, from its rwsem_waiter record (the emulator's sched_show_task). */
function blocked_on(t: number, tasks: readonly number[]): string[] {
  const sem = Atomics.load(mem.i32, t + TASK.w_lock);
  if (!sem) return [];
  const count = Atomics.load(mem.i32, sem + RWSEM.count);
  return [
    `task:${task_comm(t)} state:D pid:${task_pid(t)} blocked on ${lockLabel(sem, 'rw_semaphore')} count:${hex8(count)}`,
    `  held by: ${rwsemHolders(sem, tasks)}`,
    `  queue: ${rwsemQueue(sem)}`,
  ];
}

// kernel/hung_task.c check_hung_task(), v6.6
function check_hung_task(t: number, timeout: number, tasks: readonly number[]): boolean {
  const i32 = mem.i32;
  const switch_count = Atomics.load(i32, t + TASK.nvcsw);
  if (!switch_count) return false; // never switched out: not checked
  if (switch_count !== Atomics.load(i32, t + TASK.last_switch_count)) {
    Atomics.store(i32, t + TASK.last_switch_count, switch_count);
    Atomics.store(i32, t + TASK.last_switch_time, jiffies());
    return false;
  }
  const since = jiffies() - Atomics.load(i32, t + TASK.last_switch_time);
  if (since < timeout * HZ) return false;
  const w = HUNG_TASK.base() + HUNG_TASK.layout.warnings;
  if (Atomics.load(i32, w) <= 0) return true;
  Atomics.sub(i32, w, 1);
  printk(
    KERN_ERR,
    [
      `INFO: task ${task_comm(t)}:${task_pid(t)} blocked for more than ${Math.floor(since / HZ)} seconds.`,
      `      ${print_tainted()} ${utsname.release} #1`,
      '"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.',
      ...blocked_on(t, tasks),
    ].join('\n'),
  );
  return true;
}

// kernel/locking/lockdep.c debug_show_all_locks(), v6.6
function debug_show_all_locks(tasks: number[]): void {
  if (!lockdepEnabled()) {
    printk(KERN_ERR, 'INFO: lockdep is turned off.');
    return;
  }
  const lines = ['', 'Showing all locks held in the system:'];
  for (const t of tasks)
    if (Atomics.load(mem.i32, t + TASK.lockdep_depth) > 0) lines.push(...lockdep_print_held_locks(t));
  lines.push('', '=============================================');
  printk(KERN_ERR, lines.join('\n'));
}

// Killable and TASK_IDLE (uninterruptible + noload) sleepers are not hung.
function in_d_state(t: number): boolean {
  const state = Atomics.load(mem.i32, t + TASK.__state);
  return (state & TASK_UNINTERRUPTIBLE) !== 0 && !(state & (TASK_WAKEKILL | TASK_NOLOAD));
}

// kernel/hung_task.c check_hung_uninterruptible_tasks(), v6.6. Returns the number of hung tasks.
export function check_hung_uninterruptible_tasks(timeout: number): number {
  const tasks = kmem_cache_live_objects(task_struct_cachep);
  let hung = 0;
  for (const t of tasks) if (in_d_state(t) && check_hung_task(t, timeout, tasks)) hung++;
  if (hung) debug_show_all_locks(tasks);
  return hung;
}

/**
 * Tasks in D state that the last pass did not report: blocked for less than the timeout, they
 * are reported by a later pass if they stay blocked. (The emulator's, for the watchdog's stop.)
 */
export function hungTasksPending(timeout: number): number {
  const now = jiffies();
  let pending = 0;
  for (const t of kmem_cache_live_objects(task_struct_cachep)) {
    if (!in_d_state(t)) continue;
    if (now - Atomics.load(mem.i32, t + TASK.last_switch_time) < timeout * HZ) pending++;
  }
  return pending;
}
