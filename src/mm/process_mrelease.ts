// mm/oom_kill.c process_mrelease(2) (syscall 448, v5.15) in its released forms (kernel-mm.md §2.4):
// a userspace killer (lmkd, oomd) reaps a dying process's memory itself.
// "pidfd" is a task_struct pointer the caller holds a reference on: pidfd_get_pid() +
// get_pid_task(PIDTYPE_TGID) become get_task_struct(). The PIDFD_NONBLOCK check and a task that
// was already released (get_pid_task() returning NULL) are not modelled.
import { point } from '../cpu/context.js';
import { test_bit } from '../kernel/bitops.js';
import { mmdrop, mmget_not_zero, mmgrab, mmput } from '../kernel/fork.js';
import { get_task_struct, put_task_struct } from '../kernel/sched.js';
import { task_unlock } from '../kernel/task_lock.js';
import { TASK } from '../kernel/task_struct.js';
import { __oom_reap_task_mm } from './era_ops.js';
import { kread } from './kasan.js';
import { MM, MMF_OOM_SKIP } from './mm_types.js';
import { mmap_read_lock_killable, mmap_read_unlock } from './mmap_lock.js';
import { find_lock_task_mm, task_will_free_mem } from './oom_kill.js';

export const ESRCH = 3;
export const EINTR = 4;
export const EAGAIN = 11;
export const EINVAL = 22;
export const ENOSYS = 38;

// kernel/sys_ni.c sys_ni_syscall(): before v5.15 there is no syscall 448.
export function process_mrelease_enosys(_pidfd: number, _flags: number): number {
  return -ENOSYS;
}

const skipped = (mm: number): boolean => test_bit(MMF_OOM_SKIP, mm + MM.flags);

/** The reap itself, under mmap_read_lock_killable(); `recheck`: v5.17's MMF_OOM_SKIP test under it. */
function reap(mm: number, recheck: boolean): number {
  // Between task_unlock() and the lock the target can run all of exit_mmap() (D2, E1).
  point('process_mrelease:unlocked');
  if (mmap_read_lock_killable(mm)) return -EINTR;
  let ret = 0;
  if (!(recheck && skipped(mm)) && !__oom_reap_task_mm(mm)) ret = -EAGAIN;
  mmap_read_unlock(mm);
  return ret;
}

/** Flags, pidfd to task, and a thread that still has an mm (returned task_lock()ed), or an errno. */
function mrelease_target(pidfd: number, flags: number): { task: number; p: number } | number {
  if (flags) return -EINVAL;
  const task = get_task_struct(pidfd);
  // Make sure to choose a thread which still has a reference to mm during the group exit.
  const p = find_lock_task_mm(task);
  if (p) return { task, p };
  put_task_struct(task);
  return -ESRCH;
}

// mm/oom_kill.c process_mrelease(), v5.15-rc1 (884a7e5964e0): pins only mm_count and does not
// mark the mm as a victim, so exit_mmap (v4.17 form) runs without any barrier against it (D2).
export function process_mrelease_v5_15_rc1(pidfd: number, flags: number): number {
  const t = mrelease_target(pidfd, flags);
  if (typeof t === 'number') return t;
  const mm = kread(t.p + TASK.mm);
  mmgrab(mm);
  let ret = 0;
  let do_reap = true;
  if (skipped(mm))
    do_reap = false; // the work has been done already
  else if (!task_will_free_mem(t.p)) {
    do_reap = false;
    ret = -EINVAL;
  }
  task_unlock(t.p);
  if (do_reap) ret = reap(mm, false);
  mmdrop(mm);
  put_task_struct(t.task);
  return ret;
}

// mm/oom_kill.c process_mrelease(), v5.15 (337546e83fc7, before the release): pins mm_users, so
// exit_mmap cannot start while it reaps; its own mmput() may be the last and run __mmput().
export function process_mrelease_v5_15(pidfd: number, flags: number): number {
  const t = mrelease_target(pidfd, flags);
  if (typeof t === 'number') return t;
  let mm = 0;
  let ret = 0;
  let do_reap = false;
  if (mmget_not_zero(kread(t.p + TASK.mm))) {
    mm = kread(t.p + TASK.mm);
    if (task_will_free_mem(t.p)) do_reap = true;
    else if (!skipped(mm)) ret = -EINVAL; // an error only if the work has not been done already
  }
  task_unlock(t.p);
  if (do_reap) ret = reap(mm, false);
  if (mm) mmput(mm);
  put_task_struct(t.task);
  return ret;
}

// mm/oom_kill.c process_mrelease(), v5.17 (ba535c1caf3e): back to mmgrab(), now that exit_mmap
// holds mmap_lock for writing; MMF_OOM_SKIP is tested again under the read lock so that a
// completed exit_mmap() is seen (it still walks a dangling list without f798a1d4f94d: E1).
export function process_mrelease_v5_17(pidfd: number, flags: number): number {
  const t = mrelease_target(pidfd, flags);
  if (typeof t === 'number') return t;
  const mm = kread(t.p + TASK.mm);
  mmgrab(mm);
  let ret = 0;
  let do_reap = false;
  if (task_will_free_mem(t.p)) do_reap = true;
  else if (!skipped(mm)) ret = -EINVAL;
  task_unlock(t.p);
  if (do_reap) ret = reap(mm, true);
  mmdrop(mm);
  put_task_struct(t.task);
  return ret;
}
