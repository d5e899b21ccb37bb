// kernel/fork.c (v4.14/v4.15): mm_struct lifetime (mm_users, mm_count, __mmput in each era's
// form, mmput_async, __mmdrop, check_mm) and task/signal lifetime. Sits above mm/, as fork.c
// calls exit_mmap.
import { cpuCtx, point } from '../cpu/context.js';
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';
import { __mmput, check_mm, exit_mmap } from '../mm/era_ops.js';
import { kread, kwrite } from '../mm/kasan.js';
import { MM, MMF_OOM_SKIP, NR_MM_COUNTERS, resident_page_types } from '../mm/mm_types.js';
import { PTE_TABLE_BYTES, pgd_alloc, pgd_free } from '../mm/pgtable.js';
import { kmem_cache_alloc, kmem_cache_create, kmem_cache_free } from '../mm/slab.js';
import { mem } from '../shm/arena.js';
import { registerSnapshotMirror } from '../shm/arena_snapshot.js';
import { defineStatics } from '../shm/statics.js';
import { set_bit } from './bitops.js';
import { init_rwsem } from './locking/rwsem.js';
import { spin_lock_init } from './locking/spinlock.js';
import { WARN_ON_ONCE } from './panic.js';
import { hex8, KERN_ALERT, printk } from './printk.js';
import { might_sleep, put_task_struct, taskRelease } from './sched.js';
import { PF_KTHREAD, SIGNAL, set_task_comm, TASK, TASK_RUNNING } from './task_struct.js';
import { switchMm } from './task_switch.js';

export const mm_cachep = kmem_cache_create('mm_struct', MM.SIZE, 16);
export const task_struct_cachep = kmem_cache_create('task_struct', TASK.SIZE, 512);
export const signal_cachep = kmem_cache_create('signal_cache', SIGNAL.SIZE, 512);

/** mmput_async()'s work items not run yet (system_wq is not modelled: see runMmputAsyncWork()). */
const FORK = defineStatics('fork', ['mmput_async_list']);

const users = (mm: number): number => mm + MM.mm_users;
const count = (mm: number): number => mm + MM.mm_count;

// --trace: function slices (cpu/trace_buffer.ts)
const T = {
  __mmdrop: traceFn('__mmdrop'),
  __mmput: traceFn('__mmput'),
  mmput: traceFn('mmput'),
};

// kernel/fork.c mm_alloc() + mm_init()
export function mm_alloc(): number {
  const mm = kmem_cache_alloc(mm_cachep, 'mm_alloc');
  if (!mm) return 0;
  const i32 = mem.i32;
  Atomics.store(i32, users(mm), 1);
  Atomics.store(i32, count(mm), 1);
  init_rwsem(mm + MM.mmap_sem, '&mm->mmap_sem');
  spin_lock_init(mm + MM.page_table_lock, '&mm->page_table_lock');
  const pgd = pgd_alloc(mm);
  if (!pgd) {
    kmem_cache_free(mm_cachep, mm, 'mm_alloc');
    return 0;
  }
  Atomics.store(i32, mm + MM.pgd, pgd);
  return mm;
}

// include/linux/sched/mm.h mmgrab()
export function mmgrab(mm: number): void {
  Atomics.add(mem.i32, count(mm), 1);
}

// include/linux/sched/mm.h mmget()
export function mmget(mm: number): void {
  Atomics.add(mem.i32, users(mm), 1);
}

// include/linux/sched/mm.h mmget_not_zero(): atomic_inc_not_zero(&mm->mm_users)
export function mmget_not_zero(mm: number): boolean {
  const i32 = mem.i32;
  let c = Atomics.load(i32, users(mm));
  while (c !== 0) {
    const seen = Atomics.compareExchange(i32, users(mm), c, c + 1);
    if (seen === c) return true;
    c = seen;
  }
  return false;
}

/** The rss counters check_mm() finds non-zero, as [index, value]. */
function badRss(mm: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < NR_MM_COUNTERS; i++) {
    const x = Atomics.load(mem.i32, mm + MM.rss_stat + i);
    if (x) out.push([i, x]);
  }
  return out;
}

const pgtablesBytes = (mm: number) => Atomics.load(mem.i32, mm + MM.pgtables_bytes);

// kernel/fork.c check_mm(), v4.13-v4.14: the counter by index, page tables as nr_ptes (the PAE
// pmds are allocated with the pgd, so nr_pmds never moves here and is not printed).
export function check_mm_v4_13(mm: number): void {
  for (const [i, x] of badRss(mm))
    printk(KERN_ALERT, `BUG: Bad rss-counter state mm:${hex8(mm)} idx:${i} val:${x}`);
  const nr_ptes = pgtablesBytes(mm) / PTE_TABLE_BYTES;
  if (nr_ptes) printk(KERN_ALERT, `BUG: non-zero nr_ptes on freeing mm: ${nr_ptes}`);
}

// kernel/fork.c check_mm(), v4.15-v5.3: af5b0f6a09e4 counts page tables in bytes
export function check_mm_v4_15(mm: number): void {
  for (const [i, x] of badRss(mm))
    printk(KERN_ALERT, `BUG: Bad rss-counter state mm:${hex8(mm)} idx:${i} val:${x}`);
  const bytes = pgtablesBytes(mm);
  if (bytes) printk(KERN_ALERT, `BUG: non-zero pgtables_bytes on freeing mm: ${bytes}`);
}

// kernel/fork.c check_mm(), v5.4+: the counter by name (resident_page_types[])
export function check_mm_v5_4(mm: number): void {
  for (const [i, x] of badRss(mm))
    printk(KERN_ALERT, `BUG: Bad rss-counter state mm:${hex8(mm)} type:${resident_page_types[i]} val:${x}`);
  const bytes = pgtablesBytes(mm);
  if (bytes) printk(KERN_ALERT, `BUG: non-zero pgtables_bytes on freeing mm: ${bytes}`);
}

// kernel/fork.c __mmdrop()
export function __mmdrop(mm: number): void {
  traceBegin(T.__mmdrop);
  try {
    const cur = cpuCtx.current;
    WARN_ON_ONCE(cur !== 0 && mm === kread(cur + TASK.mm), 'kernel/fork.c:__mmdrop');
    pgd_free(kread(mm + MM.pgd));
    check_mm(mm);
    kmem_cache_free(mm_cachep, mm, '__mmdrop');
  } finally {
    traceEnd(T.__mmdrop);
  }
}

// include/linux/sched/mm.h mmdrop()
export function mmdrop(mm: number): void {
  if (Atomics.sub(mem.i32, count(mm), 1) === 1) __mmdrop(mm);
}
switchMm.mmdrop = mmdrop;

// fs/aio.c exit_aio(): kills the mm's AIO contexts and waits for the requests in flight. AIO is
// not modelled; this is the preemption point where the real one can block for an I/O to
// complete, with mm_users already 0 (the reason the v4.14 reaper stopped pinning mm_users: A1).
function exit_aio(_mm: number): void {
  point('exit_aio');
}

// kernel/fork.c __mmput(), v4.13 (uprobes, ksm, khugepaged, huge zero page, exe_file and mmlist
// are not modelled): MMF_OOM_SKIP is set once exit_mmap() has freed the memory.
export function __mmput_v4_13(mm: number): void {
  traceBegin(T.__mmput);
  try {
    exit_aio(mm);
    exit_mmap(mm);
    set_bit(MMF_OOM_SKIP, mm + MM.flags);
    mmdrop(mm);
  } finally {
    traceEnd(T.__mmput);
  }
}

// kernel/fork.c __mmput(), v4.14 (212925802454 moved MMF_OOM_SKIP into exit_mmap; the same shape
// to this day)
export function __mmput_v4_14(mm: number): void {
  traceBegin(T.__mmput);
  try {
    exit_aio(mm);
    exit_mmap(mm);
    mmdrop(mm);
  } finally {
    traceEnd(T.__mmput);
  }
}

// kernel/fork.c mmput()
export function mmput(mm: number): void {
  traceBegin(T.mmput);
  try {
    might_sleep('kernel/fork.c:mmput');
    if (Atomics.sub(mem.i32, users(mm), 1) === 1) __mmput(mm);
  } finally {
    traceEnd(T.mmput);
  }
}

// kernel/fork.c mmput_async(), v4.13 (ec8d7c14ea14): the last reference's __mmput() is deferred to
// system_wq (INIT_WORK(&mm->async_put_work, mmput_async_fn); schedule_work()), so the reaper
// never blocks in exit_aio(). Here the work item is pushed on a list that runMmputAsyncWork() runs.
export function mmput_async(mm: number): void {
  if (Atomics.sub(mem.i32, users(mm), 1) !== 1) return;
  const head = FORK.base() + FORK.layout.mmput_async_list;
  for (;;) {
    const first = Atomics.load(mem.i32, head);
    kwrite(mm + MM.async_put_work, first);
    if (Atomics.compareExchange(mem.i32, head, first, mm) === first) return;
  }
}

// kernel/fork.c mmput_async_fn(): the work item
function mmput_async_fn(mm: number): void {
  __mmput(mm);
}

/**
 * system_wq's worker for mmput_async() items, played by whoever calls it (the oom_reaper thread
 * does, after each task: the kworker would run them soon after on another CPU). Returns how many
 * ran.
 */
export function runMmputAsyncWork(): number {
  let mm = Atomics.exchange(mem.i32, FORK.base() + FORK.layout.mmput_async_list, 0);
  let n = 0;
  while (mm) {
    const next = kread(mm + MM.async_put_work);
    mmput_async_fn(mm);
    mm = next;
    n++;
  }
  return n;
}

// kernel/fork.c free_signal_struct(): the OOM victim's mm_count pin goes with the signal struct.
function free_signal_struct(sig: number): void {
  const oom_mm = kread(sig + SIGNAL.oom_mm);
  if (oom_mm) mmdrop(oom_mm); // mmdrop_async() in the kernel
  kmem_cache_free(signal_cachep, sig, 'free_signal_struct');
}

// kernel/fork.c __put_task_struct()
function __put_task_struct(tsk: number): void {
  const sig = kread(tsk + TASK.signal);
  if (Atomics.sub(mem.i32, sig + SIGNAL.sigcnt, 1) === 1) free_signal_struct(sig);
  kmem_cache_free(task_struct_cachep, tsk, '__put_task_struct');
}
taskRelease.free = __put_task_struct;

let nextPid = 100;
// The pid counter runs on from the tasks setup made: a restored arena takes it back with them.
registerSnapshotMirror('fork.nextPid', {
  save: () => nextPid,
  restore: (v) => {
    nextPid = v as number;
  },
});

/** A new single-threaded task (copy_process, reduced to what the scenarios need). */
export function spawnTask(comm: string, opts: { kthread?: boolean; mm?: number } = {}): number {
  const t = kmem_cache_alloc(task_struct_cachep, 'copy_process');
  const sig = kmem_cache_alloc(signal_cachep, 'copy_signal');
  if (!t || !sig) throw new RangeError('spawnTask: out of task_struct or signal_struct objects');
  const i32 = mem.i32;
  Atomics.store(i32, sig + SIGNAL.sigcnt, 1);
  Atomics.store(i32, sig + SIGNAL.nr_threads, 1);
  Atomics.store(i32, t + TASK.signal, sig);
  Atomics.store(i32, t + TASK.__state, TASK_RUNNING);
  Atomics.store(i32, t + TASK.exit_state, 0);
  // One reference for the task itself (dropped by finish_task_switch() after its last schedule),
  // one for whoever reaps it (release_task(), through call_rcu()).
  Atomics.store(i32, t + TASK.usage, 2);
  spin_lock_init(t + TASK.alloc_lock, '&p->alloc_lock');
  Atomics.store(i32, t + TASK.pid, nextPid++);
  Atomics.store(i32, t + TASK.flags, opts.kthread ? PF_KTHREAD : 0);
  Atomics.store(i32, t + TASK.mm, opts.mm ?? 0);
  Atomics.store(i32, t + TASK.active_mm, opts.mm ?? 0);
  Atomics.store(i32, t + TASK.cpu, -1);
  set_task_comm(t, comm);
  return t;
}

/** Pids restart per run so that a seed's dmesg is stable. */
export function forkReset(firstPid = 100): void {
  nextPid = firstPid;
  Atomics.store(mem.i32, FORK.base() + FORK.layout.mmput_async_list, 0);
}

export { put_task_struct };
