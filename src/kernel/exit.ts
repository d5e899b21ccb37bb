// kernel/exit.c (v4.14): a task leaves its mm and dies. Its task_struct outlives do_exit(): one
// reference goes a grace period after release_task() (call_rcu), the other when the CPU has
// switched away from the dead task (finish_task_switch(), kernel/task_switch.ts).
import { point } from '../cpu/context.js';
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';
import { kread } from '../mm/kasan.js';
import { MM } from '../mm/mm_types.js';
import { exit_oom_victim } from '../mm/oom_kill.js';
import { mem } from '../shm/arena.js';
import { mmgrab, mmput } from './fork.js';
import { debug_check_no_locks_held } from './locking/lockdep.js';
import { down_read, up_read } from './locking/rwsem.js';
import { call_rcu, defineRcuCallback } from './rcu/callbacks.js';
import { __set_current_state, get_current, put_task_struct } from './sched.js';
import { task_lock, task_unlock } from './task_lock.js';
import { EXIT_DEAD, PF_EXITING, TASK, TASK_DEAD, TIF_MEMDIE } from './task_struct.js';

// --trace: function slices (cpu/trace_buffer.ts)
const T = {
  exit_mm: traceFn('exit_mm'),
  do_exit: traceFn('do_exit'),
};

// kernel/exit.c delayed_put_task_struct(), v4.14: release_task()'s reference, after a grace
// period, so that RCU readers walking the task lists never meet a freed task.
const delayed_put_task_struct = defineRcuCallback('delayed_put_task_struct', (tsk) => put_task_struct(tsk));

// kernel/exit.c release_task(), v4.14. There are no task lists, signal accounting or ptrace here:
// what remains is the reaper's reference, dropped through call_rcu().
export function release_task(p: number): void {
  call_rcu(p, delayed_put_task_struct);
}

// kernel/exit.c exit_mm(), v4.14 (mm_release, sync_mm_rss, the core-dump handshake and
// mm_update_next_owner are not modelled)
export function exit_mm(): void {
  traceBegin(T.exit_mm);
  try {
    const tsk = get_current();
    const mm = kread(tsk + TASK.mm);
    if (!mm) return;
    down_read(mm + MM.mmap_sem);
    mmgrab(mm); // the lazy-TLB reference of active_mm, dropped after the last switch away
    // "more a memory barrier than a real lock": whoever reads tsk->mm under task_lock (the OOM
    // killer's find_lock_task_mm()) sees either the mm with mm_users still held, or NULL.
    task_lock(tsk);
    Atomics.store(mem.i32, tsk + TASK.mm, 0);
    up_read(mm + MM.mmap_sem);
    // enter_lazy_tlb(): nothing to do on this machine
    task_unlock(tsk);
    point('exit_mm:mmput');
    mmput(mm);
    if (Atomics.load(mem.i32, tsk + TASK.thread_flags) & (1 << TIF_MEMDIE)) exit_oom_victim();
  } finally {
    traceEnd(T.exit_mm);
  }
}

// kernel/exit.c exit_notify(), v4.14, reduced to the autoreap case: parents are not modelled, so
// every task is reaped as it exits, as when its parent ignores SIGCHLD (exit_state EXIT_DEAD).
function exit_notify(tsk: number): void {
  // Unhashed before the RCU-delayed put: a for_each_process() that starts now skips it, and one
  // already running holds RCU, which the put waits for.
  Atomics.store(mem.i32, tsk + TASK.exit_state, EXIT_DEAD);
  release_task(tsk);
}

// kernel/sched/core.c do_task_dead(), v4.14: TASK_DEAD makes the next finish_task_switch() drop
// the task's own reference. The final __schedule() is the emulator's switch away, when the CPU
// program returns (switchToIdle()); do_exit() returns to let it, and nothing may run after it.
function do_task_dead(): void {
  __set_current_state(TASK_DEAD);
}

// kernel/exit.c do_exit(), v4.14, reduced: PF_EXITING (exit_signals), exit_mm, exit_notify, the
// held-lock check, do_task_dead. The caller's CPU program must return right after.
export function do_exit(_code: number): void {
  traceBegin(T.do_exit);
  try {
    const tsk = get_current();
    Atomics.or(mem.i32, tsk + TASK.flags, PF_EXITING);
    exit_mm();
    point('do_exit:exit_notify');
    exit_notify(tsk);
    debug_check_no_locks_held();
    do_task_dead();
  } finally {
    traceEnd(T.do_exit);
  }
}
