// mm/oom_kill.c (v4.14 and v4.15): killing a victim and the oom_reaper kthread.
import { point } from '../cpu/context.js';
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';
import { set_bit, test_bit } from '../kernel/bitops.js';
import { mmdrop, mmgrab, task_struct_cachep } from '../kernel/fork.js';
import { kthread_should_stop } from '../kernel/kthread.js';
import { down_read_trylock, up_read } from '../kernel/locking/rwsem.js';
import { spin_lock, spin_lock_init, spin_unlock } from '../kernel/locking/spinlock.js';
import { KERN_ERR, KERN_INFO, printk } from '../kernel/printk.js';
import { rcu_read_lock, rcu_read_unlock } from '../kernel/rcu/update.js';
import {
  get_current,
  get_task_struct,
  put_task_struct,
  schedule_timeout_idle,
  try_to_wake_up,
} from '../kernel/sched.js';
import { task_lock, task_unlock } from '../kernel/task_lock.js';
import {
  PF_EXITING,
  PF_KTHREAD,
  SIGNAL,
  SIGNAL_GROUP_COREDUMP,
  SIGNAL_GROUP_EXIT,
  TASK,
  TASK_WAKEKILL,
  TIF_MEMDIE,
  task_comm,
  task_pid,
} from '../kernel/task_struct.js';
import { HZ } from '../kernel/time.js';
import {
  init_waitqueue_head,
  WAIT_QUEUE_HEAD_WORDS,
  wait_event_interruptible,
  wait_event_interruptible_timeout,
  wake_up,
  wake_up_all,
} from '../kernel/wait.js';
import { mem } from '../shm/arena.js';
import { defineStatics } from '../shm/statics.js';
import { mark_oom_victim } from './era_ops.js';
import { kread, kwrite } from './kasan.js';
import { get_mm_counter, unmap_page_range, vma_end, vma_next, vma_start } from './memory.js';
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
import { tlb_finish_mmu, tlb_gather_mmu } from './mmu_gather.js';
import { kmem_cache_live_objects } from './slab.js';

/** v4.15-v6.0: set once in mark_oom_victim(), never cleared (4837fe37adff). */
export const MMF_OOM_VICTIM_v4_15 = 25;
export const MAX_OOM_REAP_RETRIES = 10;

export const OOM = defineStatics('oom_kill', [
  'oom_reaper_list',
  'oom_reaper_lock',
  'oom_victims',
  'oom_reaper_th',
  'oom_killer_disabled',
  `oom_reaper_wait[${WAIT_QUEUE_HEAD_WORDS}]`,
  `oom_victims_wait[${WAIT_QUEUE_HEAD_WORDS}]`,
]);

const g = (f: keyof typeof OOM.layout): number => OOM.base() + (OOM.layout[f] as number);

// --trace: function slices (cpu/trace_buffer.ts)
const T = {
  __oom_reap_task_mm: traceFn('__oom_reap_task_mm'),
  oom_reap_task: traceFn('oom_reap_task'),
  oom_reaper: traceFn('oom_reaper'),
  wake_oom_reaper: traceFn('wake_oom_reaper'),
};

/** oom_init(): the reaper thread exists; its list is empty. */
export function oom_init(oom_reaper_th: number): void {
  Atomics.store(mem.i32, g('oom_reaper_list'), 0);
  Atomics.store(mem.i32, g('oom_victims'), 0);
  Atomics.store(mem.i32, g('oom_reaper_th'), oom_reaper_th);
  Atomics.store(mem.i32, g('oom_killer_disabled'), 0);
  spin_lock_init(g('oom_reaper_lock'), 'oom_reaper_lock');
  init_waitqueue_head(g('oom_reaper_wait'));
  init_waitqueue_head(g('oom_victims_wait'));
}

/** Number of OOM victims in flight (mm/oom_kill.c oom_victims). */
export function oom_victims(): number {
  return Atomics.load(mem.i32, g('oom_victims'));
}

// mm/oom_kill.c find_lock_task_mm(), v4.14: p, or a thread of p, whose ->mm is set, returned with
// task_lock held; NULL when every thread is past exit_mm(). The emulator's processes have one
// thread each (spawnTask makes no thread groups), so for_each_thread(p, t) visits p alone.
export function find_lock_task_mm(p: number): number {
  let t = 0;
  rcu_read_lock();
  task_lock(p);
  if (kread(p + TASK.mm)) t = p;
  else task_unlock(p);
  rcu_read_unlock();
  return t;
}

// include/linux/oom.h tsk_is_oom_victim()
export function tsk_is_oom_victim(tsk: number): boolean {
  return kread(kread(tsk + TASK.signal) + SIGNAL.oom_mm) !== 0;
}

// include/linux/oom.h mm_is_oom_victim(), v4.15
export function mm_is_oom_victim_v4_15(mm: number): boolean {
  return test_bit(MMF_OOM_VICTIM_v4_15, mm + MM.flags);
}

function mark_oom_victim_common(tsk: number): number {
  const mm = kread(tsk + TASK.mm);
  if (Atomics.or(mem.i32, tsk + TASK.thread_flags, 1 << TIF_MEMDIE) & (1 << TIF_MEMDIE)) return 0;
  const sig = kread(tsk + TASK.signal);
  const first = Atomics.compareExchange(mem.i32, sig + SIGNAL.oom_mm, 0, mm) === 0;
  if (first) mmgrab(mm);
  Atomics.add(mem.i32, g('oom_victims'), 1);
  return first ? mm : 0;
}

// mm/oom_kill.c mark_oom_victim(), v4.14
export function mark_oom_victim_v4_14(tsk: number): void {
  mark_oom_victim_common(tsk);
}

// mm/oom_kill.c mark_oom_victim(), v4.15: the mm itself remembers it belongs to a victim.
export function mark_oom_victim_v4_15(tsk: number): void {
  const mm = mark_oom_victim_common(tsk);
  if (mm) set_bit(MMF_OOM_VICTIM_v4_15, mm + MM.flags);
}

// mm/oom_kill.c exit_oom_victim(), v4.14: the victim is past exit_mm(); the last one out wakes
// oom_killer_disable().
export function exit_oom_victim(): void {
  Atomics.and(mem.i32, get_current() + TASK.thread_flags, ~(1 << TIF_MEMDIE)); // clear_thread_flag()
  if (Atomics.sub(mem.i32, g('oom_victims'), 1) === 1) wake_up_all(g('oom_victims_wait'));
}

// mm/oom_kill.c oom_killer_disable(), v4.14 (oom_lock is not modelled): no new OOM kills, then
// wait up to `timeout` jiffies for the victims in flight to pass exit_mm(). False on timeout.
export function oom_killer_disable(timeout: number): boolean {
  Atomics.store(mem.i32, g('oom_killer_disabled'), 1);
  const ret = wait_event_interruptible_timeout(
    g('oom_victims_wait'),
    () => Atomics.load(mem.i32, g('oom_victims')) === 0,
    timeout,
  );
  if (ret <= 0) {
    oom_killer_enable();
    return false;
  }
  printk(KERN_INFO, 'OOM killer disabled.');
  return true;
}

// mm/oom_kill.c oom_killer_enable(), v4.14
export function oom_killer_enable(): void {
  Atomics.store(mem.i32, g('oom_killer_disabled'), 0);
}

// mm/internal.h can_madv_dontneed_vma()
function can_madv_dontneed_vma(vma: number): boolean {
  return !(kread(vma + VMA.vm_flags) & (VM_LOCKED | VM_HUGETLB | VM_PFNMAP));
}

const K = (pages: number): number => pages * 4;

// mm/oom_kill.c __oom_reap_task_mm(), v4.14 (oom_lock and mmu notifiers are not modelled)
export function __oom_reap_task_mm(tsk: number, mm: number): boolean {
  traceBegin(T.__oom_reap_task_mm);
  try {
    point('__oom_reap_task_mm');
    if (!down_read_trylock(mm + MM.mmap_sem)) return false;
    // MMF_OOM_SKIP is checked under mmap_sem for reading: it serializes against exit_mmap's
    // down_write(); up_write() cycle.
    if (test_bit(MMF_OOM_SKIP, mm + MM.flags)) {
      up_read(mm + MM.mmap_sem);
      return true;
    }
    set_bit(MMF_UNSTABLE, mm + MM.flags);
    const tlb = tlb_gather_mmu(mm, 0, -1);
    for (let vma = kread(mm + MM.mmap); vma; vma = vma_next(vma)) {
      point('oom_reap:vma');
      if (!can_madv_dontneed_vma(vma)) continue;
      if (!kread(vma + VMA.vm_file) || !(kread(vma + VMA.vm_flags) & VM_SHARED)) {
        unmap_page_range(tlb, vma, vma_start(vma), vma_end(vma));
      }
    }
    tlb_finish_mmu(tlb, 0, -1);
    printk(
      KERN_INFO,
      `oom_reaper: reaped process ${task_pid(tsk)} (${task_comm(tsk)}), now anon-rss:${K(get_mm_counter(mm, MM_ANONPAGES))}kB, file-rss:${K(get_mm_counter(mm, MM_FILEPAGES))}kB, shmem-rss:${K(get_mm_counter(mm, MM_SHMEMPAGES))}kB`,
    );
    up_read(mm + MM.mmap_sem);
    return true;
  } finally {
    traceEnd(T.__oom_reap_task_mm);
  }
}

// mm/oom_kill.c oom_reap_task(), v4.14
export function oom_reap_task(tsk: number): void {
  traceBegin(T.oom_reap_task);
  try {
    const mm = kread(kread(tsk + TASK.signal) + SIGNAL.oom_mm);
    let attempts = 0;
    while (attempts++ < MAX_OOM_REAP_RETRIES && !__oom_reap_task_mm(tsk, mm)) schedule_timeout_idle(HZ / 10);
    // v4.14 and v4.15 complain whenever the retries ran out; the MMF_OOM_SKIP test came in v4.17
    // ("mm,oom_reaper: check for MMF_OOM_SKIP before complaining").
    if (attempts > MAX_OOM_REAP_RETRIES) {
      printk(KERN_INFO, `oom_reaper: unable to reap pid:${task_pid(tsk)} (${task_comm(tsk)})`);
    }
    kwrite(tsk + TASK.oom_reaper_list, 0);
    // Hide this mm from the OOM killer: it has been reaped, or somebody cannot up_write(mmap_sem).
    set_bit(MMF_OOM_SKIP, mm + MM.flags);
    put_task_struct(tsk); // the reference wake_oom_reaper() took
  } finally {
    traceEnd(T.oom_reap_task);
  }
}

// mm/oom_kill.c oom_reaper(), v4.14. The emulator's kthreads also stop when asked, once idle.
export function oom_reaper(): void {
  traceBegin(T.oom_reaper);
  try {
    for (;;) {
      wait_event_interruptible(
        g('oom_reaper_wait'),
        () => Atomics.load(mem.i32, g('oom_reaper_list')) !== 0 || kthread_should_stop(),
      );
      let tsk = 0;
      spin_lock(g('oom_reaper_lock'));
      tsk = Atomics.load(mem.i32, g('oom_reaper_list'));
      if (tsk) Atomics.store(mem.i32, g('oom_reaper_list'), kread(tsk + TASK.oom_reaper_list));
      spin_unlock(g('oom_reaper_lock'));
      if (tsk) oom_reap_task(tsk);
      else if (kthread_should_stop()) return;
    }
  } finally {
    traceEnd(T.oom_reaper);
  }
}

// mm/oom_kill.c wake_oom_reaper(), v4.14
export function wake_oom_reaper(tsk: number): void {
  traceBegin(T.wake_oom_reaper);
  try {
    if (!Atomics.load(mem.i32, g('oom_reaper_th'))) return;
    if (tsk === Atomics.load(mem.i32, g('oom_reaper_list')) || kread(tsk + TASK.oom_reaper_list)) return;
    get_task_struct(tsk);
    spin_lock(g('oom_reaper_lock'));
    kwrite(tsk + TASK.oom_reaper_list, Atomics.load(mem.i32, g('oom_reaper_list')));
    Atomics.store(mem.i32, g('oom_reaper_list'), tsk);
    spin_unlock(g('oom_reaper_lock'));
    wake_up(g('oom_reaper_wait'));
  } finally {
    traceEnd(T.wake_oom_reaper);
  }
}

// mm/oom_kill.c __task_will_free_mem(), v4.14
function __task_will_free_mem(task: number): boolean {
  const sig_flags = kread(kread(task + TASK.signal) + SIGNAL.flags);
  if (sig_flags & SIGNAL_GROUP_COREDUMP) return false;
  if (sig_flags & SIGNAL_GROUP_EXIT) return true;
  // thread_group_empty(task): always, here.
  return (kread(task + TASK.flags) & PF_EXITING) !== 0;
}

// mm/oom_kill.c task_will_free_mem(), v4.14 (caller holds task_lock). for_each_process() walks the
// live task_structs; a process is one task here, so same_thread_group(task, p) is p === task.
function task_will_free_mem(task: number): boolean {
  const mm = kread(task + TASK.mm);
  // A task past exit_mm() (and maybe exit_oom_victim()) is skipped.
  if (!mm) return false;
  if (!__task_will_free_mem(task)) return false;
  if (test_bit(MMF_OOM_SKIP, mm + MM.flags)) return false;
  if (Atomics.load(mem.i32, mm + MM.mm_users) <= 1) return true;
  let ret = true;
  rcu_read_lock();
  for (const p of kmem_cache_live_objects(task_struct_cachep)) {
    if (Atomics.load(mem.i32, p + TASK.flags) & PF_KTHREAD) continue;
    if (Atomics.load(mem.i32, p + TASK.mm) !== mm) continue; // process_shares_mm()
    if (p === task) continue;
    ret = __task_will_free_mem(p);
    if (!ret) break;
  }
  rcu_read_unlock();
  return ret;
}

// mm/oom_kill.c oom_kill_process(), v4.14, after select_bad_process() chose `chosen`: the dump
// header, the "sacrifice child" pick among children and the kill of other processes sharing the
// mm are not modelled (a process here has no children and shares its mm with nobody).
export function oom_kill_process(chosen: number): void {
  // oom_evaluate_task(): the reference that oc->chosen holds, which this function drops.
  let p = get_task_struct(chosen);
  // An exiting task gets access to memory reserves and the reaper, and is not killed again.
  task_lock(p);
  if (task_will_free_mem(p)) {
    mark_oom_victim(p);
    wake_oom_reaper(p);
    task_unlock(p);
    put_task_struct(p);
    return;
  }
  task_unlock(p);

  let victim = p;
  p = find_lock_task_mm(victim);
  if (!p) {
    // Every thread is past exit_mm(): nothing to kill, the next OOM picks again.
    put_task_struct(victim);
    return;
  } else if (victim !== p) {
    get_task_struct(p);
    put_task_struct(victim);
    victim = p;
  }
  // Under task_lock: victim->mm cannot go away until task_unlock().
  const mm = kread(victim + TASK.mm);
  mmgrab(mm);
  // do_send_sig_info(SIGKILL): fatal signal pending, wake the task from killable sleeps.
  Atomics.store(mem.i32, victim + TASK.pending_sigkill, 1);
  try_to_wake_up(victim, TASK_WAKEKILL);
  mark_oom_victim(victim);
  printk(
    KERN_ERR,
    `Killed process ${task_pid(victim)} (${task_comm(victim)}) total-vm:${K(kread(mm + MM.total_vm))}kB, anon-rss:${K(get_mm_counter(mm, MM_ANONPAGES))}kB, file-rss:${K(get_mm_counter(mm, MM_FILEPAGES))}kB, shmem-rss:${K(get_mm_counter(mm, MM_SHMEMPAGES))}kB`,
  );
  task_unlock(victim);
  wake_oom_reaper(victim);
  mmdrop(mm);
  put_task_struct(victim);
}
