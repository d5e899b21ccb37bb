// kernel/exit.c (v4.14): a task leaves its mm and dies.
import { cpuCtx, point } from '../cpu/context.js';
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';
import { kread } from '../mm/kasan.js';
import { MM } from '../mm/mm_types.js';
import { mem } from '../shm/arena.js';
import { mmdrop, mmgrab, mmput } from './fork.js';
import { down_read, up_read } from './locking/rwsem.js';
import { get_current, put_task_struct, set_current_state } from './sched.js';
import { PF_EXITING, TASK, TASK_DEAD, TIF_MEMDIE } from './task_struct.js';

// --trace: function slices (cpu/trace_buffer.ts)
const T = {
  exit_mm: traceFn('exit_mm'),
  do_exit: traceFn('do_exit'),
};

// kernel/oom_kill.c exit_oom_victim()
function exit_oom_victim(): void {
  Atomics.and(mem.i32, get_current() + TASK.thread_flags, ~(1 << TIF_MEMDIE));
}

// kernel/exit.c exit_mm(), v4.14
export function exit_mm(): void {
  traceBegin(T.exit_mm);
  try {
    const tsk = get_current();
    const mm = kread(tsk + TASK.mm);
    if (!mm) return;
    down_read(mm + MM.mmap_sem);
    mmgrab(mm); // the lazy-TLB reference of active_mm, dropped after the last switch away
    Atomics.store(mem.i32, tsk + TASK.mm, 0);
    up_read(mm + MM.mmap_sem);
    point('exit_mm:mmput');
    mmput(mm);
    if (Atomics.load(mem.i32, tsk + TASK.thread_flags) & (1 << TIF_MEMDIE)) exit_oom_victim();
  } finally {
    traceEnd(T.exit_mm);
  }
}

// kernel/exit.c do_exit(), reduced: exit_mm, then the final switch away and release_task.
export function do_exit(_code: number): void {
  traceBegin(T.do_exit);
  try {
    const tsk = get_current();
    Atomics.or(mem.i32, tsk + TASK.flags, PF_EXITING);
    exit_mm();
    point('do_exit:exit_notify');
    set_current_state(TASK_DEAD);
    // finish_task_switch() on the next task: drop the dead task's active_mm and its own reference.
    const active = kread(tsk + TASK.active_mm);
    Atomics.store(mem.i32, tsk + TASK.active_mm, 0);
    if (active) mmdrop(active);
    put_task_struct(tsk); // release_task(): the parent reaped us
    put_task_struct(tsk); // the final put after the switch
    cpuCtx.current = 0;
  } finally {
    traceEnd(T.do_exit);
  }
}
