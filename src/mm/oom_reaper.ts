// mm/oom_kill.c, the reaper half: the oom_reaper kthread, its queue and each era's reaping
// (kernel-mm.md §2.2-2.3). oom_lock and mmu notifiers are not modelled (no notifier is ever
// registered here, so the v4.13-v4.18 mm_has_notifiers() back-off and the v4.19 nonblocking
// invalidate never trigger).
import { point } from '../cpu/context.js';
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';
import { set_bit, test_and_set_bit, test_bit } from '../kernel/bitops.js';
import { mmget_not_zero, mmput_async, runMmputAsyncWork } from '../kernel/fork.js';
import { kthread_should_stop } from '../kernel/kthread.js';
import { spin_lock, spin_unlock } from '../kernel/locking/spinlock.js';
import { KERN_INFO, printk } from '../kernel/printk.js';
import { get_task_struct, put_task_struct, schedule_timeout_idle } from '../kernel/sched.js';
import { SIGNAL, TASK, task_comm, task_pid } from '../kernel/task_struct.js';
import { HZ, jiffies, time_after } from '../kernel/time.js';
import { wait_event_interruptible, wait_event_interruptible_timeout, wake_up } from '../kernel/wait.js';
import { mem } from '../shm/arena.js';
import { __oom_reap_task_mm, mmf, oom_reap_task, oom_reap_task_mm } from './era_ops.js';
import { kread, kwrite } from './kasan.js';
import { get_mm_counter, unmap_page_range, vma_end, vma_start } from './memory.js';
import {
  MM,
  MM_ANONPAGES,
  MM_FILEPAGES,
  MM_SHMEMPAGES,
  MMF_OOM_SKIP,
  MMF_UNSTABLE,
  VM_HUGETLB,
  VM_LOCKED,
  VM_PFNMAP,
  VM_SHARED,
  VMA,
} from './mm_types.js';
import { mmap_read_trylock, mmap_read_unlock } from './mmap_lock.js';
import { tlb_finish_mmu, tlb_gather_mmu } from './mmu_gather.js';
import { OOM_REAPER_TIMERS, oomStatic } from './oom_kill.js';
import { for_each_vma } from './vma_list.js';

export const MAX_OOM_REAP_RETRIES = 10;
/** v5.18 (e4a38402c36e): the victim gets this long to exit (and run its futex cleanup) first. */
export const OOM_REAPER_DELAY = 2 * HZ;

// --trace: function slices (cpu/trace_buffer.ts)
const T = {
  __oom_reap_task_mm: traceFn('__oom_reap_task_mm'),
  oom_reap_task_mm: traceFn('oom_reap_task_mm'),
  oom_reap_task: traceFn('oom_reap_task'),
  oom_reaper: traceFn('oom_reaper'),
  wake_oom_reaper: traceFn('wake_oom_reaper'),
};

const K = (pages: number): number => pages * 4;

// mm/internal.h can_madv_dontneed_vma(), v4.14 (can_madv_lru_vma() from v5.4, same test to v5.17)
function can_madv_dontneed_vma(vma: number): boolean {
  return !(kread(vma + VMA.vm_flags) & (VM_LOCKED | VM_HUGETLB | VM_PFNMAP));
}

// mm/internal.h can_madv_lru_vma(), v5.18 (a213e5cf71cb): mlocked memory is reaped too.
function can_madv_lru_vma_v5_18(vma: number): boolean {
  return !(kread(vma + VMA.vm_flags) & (VM_HUGETLB | VM_PFNMAP));
}

/** Only anonymous or private mappings: the page cache is left to reclaim. */
const reapable = (vma: number): boolean =>
  !kread(vma + VMA.vm_file) || !(kread(vma + VMA.vm_flags) & VM_SHARED);

function reaped(tsk: number, mm: number): void {
  printk(
    KERN_INFO,
    `oom_reaper: reaped process ${task_pid(tsk)} (${task_comm(tsk)}), now anon-rss:${K(get_mm_counter(mm, MM_ANONPAGES))}kB, file-rss:${K(get_mm_counter(mm, MM_FILEPAGES))}kB, shmem-rss:${K(get_mm_counter(mm, MM_SHMEMPAGES))}kB`,
  );
}

// The walks below are for_each_vma() of the era's container: `for (vma = mm->mmap; vma; vma =
// vma->vm_next)` up to v6.0, mas_for_each(&mas, vma, ULONG_MAX) over mm->mm_mt in v6.1.

/** v4.13/v4.14: one fullmm gather over every VMA. */
function reap_vmas_fullmm(mm: number): void {
  const tlb = tlb_gather_mmu(mm, 0, -1);
  tlb.oomReap = true;
  for (const vma of for_each_vma(mm)) {
    point('oom_reap:vma');
    if (!can_madv_dontneed_vma(vma)) continue;
    if (reapable(vma)) unmap_page_range(tlb, vma, vma_start(vma), vma_end(vma));
  }
  tlb_finish_mmu(tlb, 0, -1);
}

/** v4.15+ (687cb0884a71): a gather per VMA, so no fullmm TLB shortcut while threads still run. */
function reap_vmas(mm: number, can_reap: (vma: number) => boolean): void {
  for (const vma of for_each_vma(mm)) {
    point('oom_reap:vma');
    if (!can_reap(vma) || !reapable(vma)) continue;
    const start = vma_start(vma);
    const end = vma_end(vma);
    const tlb = tlb_gather_mmu(mm, start, end);
    tlb.oomReap = true;
    unmap_page_range(tlb, vma, start, end);
    tlb_finish_mmu(tlb, start, end);
  }
}

// mm/oom_kill.c __oom_reap_task_mm(tsk, mm), v4.13: the reaper pins mm_users, so exit_mmap()
// cannot start under it; an mm whose users are already gone is skipped (and then hidden: A1).
export function __oom_reap_task_mm_v4_13(tsk: number, mm: number): boolean {
  traceBegin(T.__oom_reap_task_mm);
  try {
    point('__oom_reap_task_mm');
    if (!mmap_read_trylock(mm)) return false;
    // mm_users is raised only once we know we will reap, so that mmput_async() is called only then.
    if (!mmget_not_zero(mm)) {
      mmap_read_unlock(mm);
      return true;
    }
    set_bit(MMF_UNSTABLE, mm + MM.flags);
    reap_vmas_fullmm(mm);
    reaped(tsk, mm);
    mmap_read_unlock(mm);
    // Never the last __mmput() here: it may block in exit_aio() and stall every later victim.
    mmput_async(mm);
    return true;
  } finally {
    traceEnd(T.__oom_reap_task_mm);
  }
}

/** v4.14 and v4.15's body: the MMF_OOM_SKIP test under mmap_sem, then `reap` over the VMAs. */
function reapUnderReadLock(tsk: number, mm: number, reap: (mm: number) => void): boolean {
  traceBegin(T.__oom_reap_task_mm);
  try {
    point('__oom_reap_task_mm');
    if (!mmap_read_trylock(mm)) return false;
    // Checked under mmap_sem for reading: serializes against exit_mmap's down_write(); up_write().
    if (test_bit(MMF_OOM_SKIP, mm + MM.flags)) {
      mmap_read_unlock(mm);
      return true;
    }
    set_bit(MMF_UNSTABLE, mm + MM.flags);
    reap(mm);
    reaped(tsk, mm);
    mmap_read_unlock(mm);
    return true;
  } finally {
    traceEnd(T.__oom_reap_task_mm);
  }
}

// mm/oom_kill.c __oom_reap_task_mm(tsk, mm), v4.14 (212925802454): no mm_users pin; exit_mmap()
// may run concurrently, and MMF_OOM_SKIP under mmap_sem is what keeps the reaper off its frees.
export function __oom_reap_task_mm_v4_14(tsk: number, mm: number): boolean {
  return reapUnderReadLock(tsk, mm, reap_vmas_fullmm);
}

// mm/oom_kill.c __oom_reap_task_mm(tsk, mm), v4.15: as v4.14, one gather per VMA (687cb0884a71).
export function __oom_reap_task_mm_v4_15(tsk: number, mm: number): boolean {
  return reapUnderReadLock(tsk, mm, (m) => reap_vmas(m, can_madv_dontneed_vma));
}

// mm/oom_kill.c __oom_reap_task_mm(mm), v4.17 (27ae357fa82b split it out for exit_mmap): the mm
// part, without the lock. Returns bool from v4.19 (false when a notifier would block: never here).
export function __oom_reap_task_mm_v4_17(mm: number): boolean {
  traceBegin(T.__oom_reap_task_mm);
  try {
    // Faults on this mm now fail with SIGBUS (check_stable_address_space()).
    set_bit(MMF_UNSTABLE, mm + MM.flags);
    reap_vmas(mm, can_madv_dontneed_vma);
    return true;
  } finally {
    traceEnd(T.__oom_reap_task_mm);
  }
}

// mm/oom_kill.c __oom_reap_task_mm(mm), v5.18: VM_LOCKED is reaped too (a213e5cf71cb).
export function __oom_reap_task_mm_v5_18(mm: number): boolean {
  traceBegin(T.__oom_reap_task_mm);
  try {
    set_bit(MMF_UNSTABLE, mm + MM.flags);
    reap_vmas(mm, can_madv_lru_vma_v5_18);
    return true;
  } finally {
    traceEnd(T.__oom_reap_task_mm);
  }
}

// mm/oom_kill.c oom_reap_task_mm(), v4.17 (v4.19 onwards without oom_lock, same steps)
export function oom_reap_task_mm_v4_17(tsk: number, mm: number): boolean {
  traceBegin(T.oom_reap_task_mm);
  try {
    point('__oom_reap_task_mm');
    if (!mmap_read_trylock(mm)) return false;
    // MMF_OOM_SKIP is set by exit_mmap() when the reaper cannot work on the mm any more; tested
    // under mmap_lock, which exit_mmap() takes for writing after setting it.
    if (test_bit(MMF_OOM_SKIP, mm + MM.flags)) {
      mmap_read_unlock(mm);
      return true;
    }
    const ret = __oom_reap_task_mm(mm);
    if (ret) reaped(tsk, mm);
    mmap_read_unlock(mm);
    return ret;
  } finally {
    traceEnd(T.oom_reap_task_mm);
  }
}

/** The retries, common to every era: up to MAX_OOM_REAP_RETRIES attempts, HZ/10 apart. */
function oom_reap_attempts(tsk: number, mm: number): number {
  let attempts = 0;
  while (attempts++ < MAX_OOM_REAP_RETRIES && !oom_reap_task_mm(tsk, mm)) schedule_timeout_idle(HZ / 10);
  return attempts;
}

function oom_reap_done(tsk: number, mm: number): void {
  kwrite(tsk + TASK.oom_reaper_list, 0);
  // Hide this mm from the OOM killer: it has been reaped, or somebody cannot up_write(mmap_sem).
  set_bit(MMF_OOM_SKIP, mm + MM.flags);
  put_task_struct(tsk); // the reference wake_oom_reaper() took
}

// mm/oom_kill.c oom_reap_task(), v4.13 (to v4.16): complains whenever the retries ran out.
export function oom_reap_task_v4_13(tsk: number): void {
  traceBegin(T.oom_reap_task);
  try {
    const mm = kread(kread(tsk + TASK.signal) + SIGNAL.oom_mm);
    if (oom_reap_attempts(tsk, mm) > MAX_OOM_REAP_RETRIES) {
      printk(KERN_INFO, `oom_reaper: unable to reap pid:${task_pid(tsk)} (${task_comm(tsk)})`);
    }
    oom_reap_done(tsk, mm);
  } finally {
    traceEnd(T.oom_reap_task);
  }
}

// mm/oom_kill.c oom_reap_task(), v4.17 ("mm,oom_reaper: check for MMF_OOM_SKIP before
// complaining"): an mm that exit_mmap() already hid is not worth a complaint.
export function oom_reap_task_v4_17(tsk: number): void {
  traceBegin(T.oom_reap_task);
  try {
    const mm = kread(kread(tsk + TASK.signal) + SIGNAL.oom_mm);
    const attempts = oom_reap_attempts(tsk, mm);
    if (attempts > MAX_OOM_REAP_RETRIES && !test_bit(MMF_OOM_SKIP, mm + MM.flags)) {
      printk(KERN_INFO, `oom_reaper: unable to reap pid:${task_pid(tsk)} (${task_comm(tsk)})`);
    }
    oom_reap_done(tsk, mm);
  } finally {
    traceEnd(T.oom_reap_task);
  }
}

const list = (): number => oomStatic('oom_reaper_list');
const reaperLock = (): number => oomStatic('oom_reaper_lock');
const reaperWait = (): number => oomStatic('oom_reaper_wait');

/** The push every queueing form ends with: LIFO through task->oom_reaper_list. */
function oom_reaper_list_add(tsk: number): void {
  spin_lock(reaperLock());
  kwrite(tsk + TASK.oom_reaper_list, Atomics.load(mem.i32, list()));
  Atomics.store(mem.i32, list(), tsk);
  spin_unlock(reaperLock());
  wake_up(reaperWait());
}

/** No oom_reaper thread was started (oom_init(0)): nobody would reap, so nothing is queued. */
const noReaper = (): boolean => !Atomics.load(mem.i32, oomStatic('oom_reaper_th'));

// mm/oom_kill.c wake_oom_reaper(), v4.14 (v4.7-v4.20): "already queued?" is a per-task test that
// misses the task at the tail of the list (its link is NULL and it is not the head): Q1.
export function wake_oom_reaper_v4_14(tsk: number): void {
  traceBegin(T.wake_oom_reaper);
  try {
    if (noReaper()) return;
    if (tsk === Atomics.load(mem.i32, list()) || kread(tsk + TASK.oom_reaper_list)) return;
    get_task_struct(tsk);
    oom_reaper_list_add(tsk);
  } finally {
    traceEnd(T.wake_oom_reaper);
  }
}

const oom_mm_flags = (tsk: number): number => kread(kread(tsk + TASK.signal) + SIGNAL.oom_mm) + MM.flags;

// mm/oom_kill.c wake_oom_reaper(), v5.0 (9bcdeb51bd7d): queued at most once per mm.
export function wake_oom_reaper_v5_0(tsk: number): void {
  traceBegin(T.wake_oom_reaper);
  try {
    if (noReaper()) return;
    if (test_and_set_bit(mmf('MMF_OOM_REAP_QUEUED'), oom_mm_flags(tsk))) return;
    get_task_struct(tsk);
    oom_reaper_list_add(tsk);
  } finally {
    traceEnd(T.wake_oom_reaper);
  }
}

// mm/oom_kill.c queue_oom_reaper(), v5.18 (e4a38402c36e): arm tsk->oom_reaper_timer for
// OOM_REAPER_DELAY. There are no kernel timers here: the timer is a slot in the oom_kill statics
// that the oom_reaper thread fires when it is due (run_oom_reaper_timers()).
export function queue_oom_reaper_v5_18(tsk: number): void {
  if (noReaper()) return;
  if (test_and_set_bit(mmf('MMF_OOM_REAP_QUEUED'), oom_mm_flags(tsk))) return;
  get_task_struct(tsk);
  add_oom_reaper_timer(tsk, (jiffies() + OOM_REAPER_DELAY) | 0);
}

// mm/oom_kill.c wake_oom_reaper(timer), v5.18: the timer callback.
export function wake_oom_reaper_v5_18(tsk: number): void {
  traceBegin(T.wake_oom_reaper);
  try {
    // The victim managed to terminate on its own (exit_mmap() set MMF_OOM_SKIP).
    if (test_bit(MMF_OOM_SKIP, oom_mm_flags(tsk))) {
      put_task_struct(tsk);
      return;
    }
    oom_reaper_list_add(tsk);
  } finally {
    traceEnd(T.wake_oom_reaper);
  }
}

const timerSlot = (i: number): number => oomStatic('oom_reaper_timers') + 2 * i;

/** add_timer(&tsk->oom_reaper_timer): a free slot gets (tsk, expires); the reaper is told. */
function add_oom_reaper_timer(tsk: number, expires: number): void {
  for (let i = 0; i < OOM_REAPER_TIMERS; i++) {
    if (Atomics.compareExchange(mem.i32, timerSlot(i), 0, -1) !== 0) continue;
    Atomics.store(mem.i32, timerSlot(i) + 1, expires);
    Atomics.store(mem.i32, timerSlot(i), tsk);
    Atomics.add(mem.i32, oomStatic('oom_reaper_timer_gen'), 1);
    wake_up(reaperWait());
    return;
  }
  throw new Error(`more than ${OOM_REAPER_TIMERS} oom_reaper timers armed at once`);
}

/** Armed oom_reaper timers, as [tsk, expires] pairs. */
export function oom_reaper_timers(): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < OOM_REAPER_TIMERS; i++) {
    const t = Atomics.load(mem.i32, timerSlot(i));
    if (t > 0) out.push([t, Atomics.load(mem.i32, timerSlot(i) + 1)]);
  }
  return out;
}

/**
 * run_timer_softirq() for the oom_reaper timers, played by whoever calls it (the oom_reaper
 * thread, before it sleeps): every timer whose expiry has come runs its callback once.
 */
export function run_oom_reaper_timers(): void {
  const now = jiffies();
  for (let i = 0; i < OOM_REAPER_TIMERS; i++) {
    const t = Atomics.load(mem.i32, timerSlot(i));
    if (t <= 0 || time_after(Atomics.load(mem.i32, timerSlot(i) + 1), now)) continue;
    if (Atomics.compareExchange(mem.i32, timerSlot(i), t, 0) === t) wake_oom_reaper_v5_18(t);
  }
}

/** Jiffies until the first armed timer expires (at least 1), or 0 when none is armed. */
function next_timer_in(): number {
  let next = 0;
  for (const [, expires] of oom_reaper_timers()) {
    const left = Math.max(1, expires - jiffies());
    if (!next || left < next) next = left;
  }
  return next;
}

/** The kthread's sleep: until a task is queued, it is told to stop, or a timer is armed or due. */
function oom_reaper_sleep(): void {
  const gen = oomStatic('oom_reaper_timer_gen');
  const seen = Atomics.load(mem.i32, gen);
  const woken = (): boolean =>
    Atomics.load(mem.i32, list()) !== 0 ||
    (kthread_should_stop() && oom_reaper_timers().length === 0) ||
    Atomics.load(mem.i32, gen) !== seen;
  const timeout = next_timer_in();
  if (timeout) wait_event_interruptible_timeout(reaperWait(), woken, timeout);
  else wait_event_interruptible(reaperWait(), woken);
}

// mm/oom_kill.c oom_reaper(), v4.14 (the kthread of every era). The emulator's kthreads also stop
// when asked, once idle; armed timers are waited for first. Two things the kernel does elsewhere
// happen here: due oom_reaper timers fire (v5.18+), and mmput_async()'s deferred __mmput() runs
// (v4.13; system_wq's worker, played by the reaper after each task).
export function oom_reaper(): void {
  traceBegin(T.oom_reaper);
  try {
    for (;;) {
      run_oom_reaper_timers();
      oom_reaper_sleep();
      run_oom_reaper_timers();
      spin_lock(reaperLock());
      const tsk = Atomics.load(mem.i32, list());
      if (tsk) Atomics.store(mem.i32, list(), kread(tsk + TASK.oom_reaper_list));
      spin_unlock(reaperLock());
      if (tsk) oom_reap_task(tsk);
      runMmputAsyncWork();
      if (!tsk && kthread_should_stop() && oom_reaper_timers().length === 0) return;
    }
  } finally {
    traceEnd(T.oom_reaper);
  }
}

/** The tasks on oom_reaper_list, head first, at most `max` (a cycle repeats tasks: Q1). */
export function oom_reaper_queue(max = 16): number[] {
  const out: number[] = [];
  for (let t = Atomics.load(mem.i32, list()); t && out.length < max; t = kread(t + TASK.oom_reaper_list)) {
    out.push(t);
  }
  return out;
}
