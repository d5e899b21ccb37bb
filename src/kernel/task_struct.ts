// include/linux/sched.h: struct task_struct and struct signal_struct, the fields mmrace models.
import { mem } from '../shm/arena.js';
import { defineStruct } from '../shm/layout.js';

export const TASK = defineStruct('task_struct', [
  '__state',
  'exit_state', // EXIT_DEAD once unhashed (release_task): for_each_process() no longer sees it
  'usage',
  'pid',
  'comm[4]', // TASK_COMM_LEN = 16 bytes
  'flags',
  'mm',
  'active_mm',
  'signal',
  'thread_flags',
  'on_cpu',
  'cpu',
  'oom_reaper_list',
  'kthread_should_stop',
  'pending_sigkill',
  'alloc_lock', // task_lock(): protects ->mm, ->comm... against other tasks' readers
  // struct rwsem_waiter lives on the sleeping task's stack; a task waits on one lock at a time.
  'w_next',
  'w_prev',
  'w_task',
  'w_type',
  'w_timeout',
  'w_handoff_set',
  'w_lock',
  // lockdep's held-lock stack: MAX_LOCK_DEPTH entries of struct held_lock (kernel/locking/lockdep_held.ts)
  'nvcsw', // voluntary context switches (sleeps)
  'last_switch_count', // khungtaskd's view
  'last_switch_time',
  'lockdep_depth',
  'held_locks[80]',
  // mmrace's per-VMA reader check (mm/vma_read_check.ts): the VMA this task read-locked and its
  // vm_start, vm_end, vm_flags, vm_page_prot as vma_start_read() saw them.
  'vma_read',
  'vma_read_snap[4]',
]);

export const SIGNAL = defineStruct('signal_struct', [
  'sigcnt',
  'flags',
  'nr_threads',
  'oom_mm',
  'oom_score_adj',
]);

// Task states (include/linux/sched.h).
export const TASK_RUNNING = 0x0;
export const TASK_INTERRUPTIBLE = 0x1;
export const TASK_UNINTERRUPTIBLE = 0x2;
export const TASK_DEAD = 0x80;
// task->exit_state
export const EXIT_DEAD = 0x10;
export const TASK_WAKEKILL = 0x100;
export const TASK_NOLOAD = 0x400;
export const TASK_KILLABLE = TASK_WAKEKILL | TASK_UNINTERRUPTIBLE;
export const TASK_IDLE = TASK_UNINTERRUPTIBLE | TASK_NOLOAD;
export const TASK_NORMAL = TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE;

// task->flags
export const PF_EXITING = 0x00000004;
export const PF_KTHREAD = 0x00200000;

// thread_info flags (x86 bit numbers)
export const TIF_MEMDIE = 20;

// signal->flags
export const SIGNAL_GROUP_EXIT = 0x00000004;
export const SIGNAL_GROUP_COREDUMP = 0x00000008;

export function set_task_comm(t: number, name: string): void {
  const i32 = mem.i32;
  for (let w = 0; w < 4; w++) {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const c = w * 4 + k < 15 ? (name.charCodeAt(w * 4 + k) || 0) & 0xff : 0;
      v |= c << (8 * k);
    }
    Atomics.store(i32, t + TASK.comm + w, v);
  }
}

export function task_comm(t: number): string {
  if (t <= 0 || t >= mem.i32.length) return '?';
  let s = '';
  for (let w = 0; w < 4; w++) {
    const v = Atomics.load(mem.i32, t + TASK.comm + w);
    for (let k = 0; k < 4; k++) {
      const c = (v >>> (8 * k)) & 0xff;
      if (c === 0) return s;
      s += String.fromCharCode(c);
    }
  }
  return s;
}

export function task_pid(t: number): number {
  if (t <= 0 || t >= mem.i32.length) return 0;
  return Atomics.load(mem.i32, t + TASK.pid);
}
