// mm/oom_kill.c, the killer half: victim selection, the kill, victim marking per era, and the
// emulator's check for a kill while an earlier victim still holds its memory. The reaper is
// oom_reaper.ts, process_mrelease(2) is process_mrelease.ts (both re-exported here).
import { set_bit, test_bit } from '../kernel/bitops.js';
import { mm_cachep, mmdrop, mmgrab, signal_cachep, task_struct_cachep } from '../kernel/fork.js';
import { spin_lock_init } from '../kernel/locking/spinlock.js';
import { KERN_EMERG, KERN_ERR, KERN_INFO, printk } from '../kernel/printk.js';
import { rcu_read_lock, rcu_read_unlock } from '../kernel/rcu/update.js';
import { get_current, get_task_struct, put_task_struct, try_to_wake_up } from '../kernel/sched.js';
import { task_lock, task_unlock } from '../kernel/task_lock.js';
import {
  PF_EXITING,
  PF_KTHREAD,
  SIGNAL,
  SIGNAL_GROUP_COREDUMP,
  SIGNAL_GROUP_EXIT,
  TASK,
  TASK_DEAD,
  TASK_WAKEKILL,
  TIF_MEMDIE,
  task_comm,
  task_pid,
} from '../kernel/task_struct.js';
import {
  init_waitqueue_head,
  WAIT_QUEUE_HEAD_WORDS,
  wait_event_interruptible_timeout,
  wake_up_all,
} from '../kernel/wait.js';
import { mem } from '../shm/arena.js';
import { defineStatics } from '../shm/statics.js';
import { mark_oom_victim, mmf, wake_oom_reaper } from './era_ops.js';
import { kread } from './kasan.js';
import { get_mm_counter } from './memory.js';
import { MM, MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, MM_SWAPENTS, MMF_OOM_SKIP } from './mm_types.js';
import { nr_pages } from './page_alloc.js';
import { kmem_cache_live_objects, slab_is_live } from './slab.js';

export { oom_reap_task, process_mrelease } from './era_ops.js';
export { MAX_OOM_REAP_RETRIES, oom_reaper } from './oom_reaper.js';

/** tsk->oom_reaper_timer slots (v5.18+): one per victim queued and not yet due. */
export const OOM_REAPER_TIMERS = 8;

export const OOM = defineStatics('oom_kill', [
  'oom_reaper_list',
  'oom_reaper_lock',
  'oom_victims',
  'oom_reaper_th',
  'oom_killer_disabled',
  `oom_reaper_wait[${WAIT_QUEUE_HEAD_WORDS}]`,
  `oom_victims_wait[${WAIT_QUEUE_HEAD_WORDS}]`,
  `oom_reaper_timers[${2 * OOM_REAPER_TIMERS}]`, // (tsk, expires) pairs
  'oom_reaper_timer_gen', // bumped when a timer is armed: the sleeping reaper re-arms its timeout
]);

/** The address of one of mm/oom_kill.c's globals. */
export function oomStatic(f: keyof typeof OOM.layout): number {
  return OOM.base() + (OOM.layout[f] as number);
}
const g = oomStatic;

const K = (pages: number): number => pages * 4;

/** oom_init(): the reaper thread exists; its list is empty. */
export function oom_init(oom_reaper_th: number): void {
  Atomics.store(mem.i32, g('oom_reaper_list'), 0);
  Atomics.store(mem.i32, g('oom_victims'), 0);
  Atomics.store(mem.i32, g('oom_reaper_th'), oom_reaper_th);
  Atomics.store(mem.i32, g('oom_killer_disabled'), 0);
  spin_lock_init(g('oom_reaper_lock'), 'oom_reaper_lock');
  init_waitqueue_head(g('oom_reaper_wait'));
  init_waitqueue_head(g('oom_victims_wait'));
  mem.i32.fill(0, g('oom_reaper_timers'), g('oom_reaper_timers') + 2 * OOM_REAPER_TIMERS);
  Atomics.store(mem.i32, g('oom_reaper_timer_gen'), 0);
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

// include/linux/oom.h mm_is_oom_victim(), v4.15 (to v6.0)
export function mm_is_oom_victim_v4_15(mm: number): boolean {
  return test_bit(mmf('MMF_OOM_VICTIM'), mm + MM.flags);
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

// mm/oom_kill.c mark_oom_victim(), v4.14 (the same in v4.13, and again in v6.1 once
// b3541d912a84 deleted MMF_OOM_VICTIM)
export function mark_oom_victim_v4_14(tsk: number): void {
  mark_oom_victim_common(tsk);
}

// mm/oom_kill.c mark_oom_victim(), v4.15: the mm itself remembers it belongs to a victim.
export function mark_oom_victim_v4_15(tsk: number): void {
  const mm = mark_oom_victim_common(tsk);
  if (mm) set_bit(mmf('MMF_OOM_VICTIM'), mm + MM.flags);
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
export function task_will_free_mem(task: number): boolean {
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

/** The points select_bad_process() gives a task; 0 = not a candidate. */
interface OomControl {
  chosen: number;
  chosen_points: number;
  totalpages: number;
}

/** (void *)-1UL in oc->chosen: an earlier victim has not finished, so nobody is killed. */
const OOM_ABORT = -1;
const OOM_SCORE_ADJ_MIN = -1000;

// mm/oom_kill.c oom_unkillable_task(), v4.14: global init and kernel threads (no memcg/cpuset here)
function oom_unkillable_task(p: number): boolean {
  return task_pid(p) === 1 || (kread(p + TASK.flags) & PF_KTHREAD) !== 0;
}

// mm/oom_kill.c oom_badness(), v4.14: rss + swap entries + page tables, in pages, adjusted by
// oom_score_adj; 0 for a task without mm or whose mm is hidden by MMF_OOM_SKIP.
export function oom_badness(p: number, totalpages: number): number {
  if (oom_unkillable_task(p)) return 0;
  const t = find_lock_task_mm(p);
  if (!t) return 0;
  const mm = kread(t + TASK.mm);
  let adj = kread(kread(t + TASK.signal) + SIGNAL.oom_score_adj);
  if (adj === OOM_SCORE_ADJ_MIN || test_bit(MMF_OOM_SKIP, mm + MM.flags)) {
    task_unlock(t);
    return 0;
  }
  let points =
    get_mm_rss(mm) + get_mm_counter(mm, MM_SWAPENTS) + Math.floor(kread(mm + MM.pgtables_bytes) / 4096);
  task_unlock(t);
  adj *= Math.floor(totalpages / 1000);
  points += adj;
  return points > 0 ? points : 1;
}

// include/linux/mm.h get_mm_rss()
export function get_mm_rss(mm: number): number {
  return (
    get_mm_counter(mm, MM_FILEPAGES) + get_mm_counter(mm, MM_ANONPAGES) + get_mm_counter(mm, MM_SHMEMPAGES)
  );
}

// mm/oom_kill.c oom_evaluate_task(), v4.14. True: stop the scan.
function oom_evaluate_task(task: number, oc: OomControl): boolean {
  if (oom_unkillable_task(task)) return false;
  // A victim with memory reserves is still freeing memory: wait for it, unless its mm is hidden.
  if (tsk_is_oom_victim(task)) {
    const oom_mm = kread(kread(task + TASK.signal) + SIGNAL.oom_mm);
    if (test_bit(MMF_OOM_SKIP, oom_mm + MM.flags)) return false;
    if (oc.chosen > 0) put_task_struct(oc.chosen);
    oc.chosen = OOM_ABORT;
    return true;
  }
  const points = oom_badness(task, oc.totalpages);
  if (!points || points < oc.chosen_points) return false;
  if (oc.chosen > 0) put_task_struct(oc.chosen);
  oc.chosen = get_task_struct(task);
  oc.chosen_points = points;
  return false;
}

/**
 * for_each_process(): there is no task list here, so the live task_structs that are not dead and
 * whose signal_struct is not being freed (__put_task_struct() frees it first) stand in for it.
 */
function for_each_process(): number[] {
  // A task unhashed before the walk began may be freed during it (its grace period need not wait
  // for this reader): its exit_state reads EXIT_DEAD, or poison, never 0, so it is skipped.
  return kmem_cache_live_objects(task_struct_cachep).filter(
    (p) =>
      Atomics.load(mem.i32, p + TASK.exit_state) === 0 &&
      Atomics.load(mem.i32, p + TASK.__state) !== TASK_DEAD &&
      slab_is_live(signal_cachep, Atomics.load(mem.i32, p + TASK.signal)),
  );
}

// mm/oom_kill.c select_bad_process(), v4.14: for_each_process() under RCU.
function select_bad_process(oc: OomControl): void {
  rcu_read_lock();
  for (const p of for_each_process()) {
    if (oom_evaluate_task(p, oc)) break;
  }
  rcu_read_unlock();
}

// kernel/signal.c do_send_sig_info(SIGKILL, ..., p, true) reduced to its effect on a
// single-threaded process: complete_signal() makes it a group exit and wakes killable sleeps.
export function do_send_sig_info_SIGKILL(p: number): void {
  Atomics.store(mem.i32, p + TASK.pending_sigkill, 1);
  Atomics.or(mem.i32, kread(p + TASK.signal) + SIGNAL.flags, SIGNAL_GROUP_EXIT);
  try_to_wake_up(p, TASK_WAKEKILL);
}

function rss_text(mm: number): string {
  return `anon-rss:${K(get_mm_counter(mm, MM_ANONPAGES))}kB, file-rss:${K(get_mm_counter(mm, MM_FILEPAGES))}kB, shmem-rss:${K(get_mm_counter(mm, MM_SHMEMPAGES))}kB`;
}

/**
 * The emulator's liveness check (kernel-mm.md §8, item 8), not a kernel message: a new victim is
 * killed while an earlier victim's mm, hidden from the OOM killer by MMF_OOM_SKIP, still holds
 * memory, i.e. MMF_OOM_SKIP came before the memory was freed and this kill is spurious (A1).
 * signal->oom_mm pins each earlier victim's mm_struct, so reading its counters is safe.
 */
function check_spurious_oom_kill(victim: number, mm: number): void {
  // for_each_process() under RCU, as select_bad_process(): a task_struct is freed only after a
  // grace period (delayed_put_task_struct), so none of the walked tasks is freed under us.
  rcu_read_lock();
  try {
    walkForSpuriousKill(victim, mm);
  } finally {
    rcu_read_unlock();
  }
}

function walkForSpuriousKill(victim: number, mm: number): void {
  for (const t of for_each_process()) {
    if (t === victim) continue;
    const oom_mm = Atomics.load(mem.i32, Atomics.load(mem.i32, t + TASK.signal) + SIGNAL.oom_mm);
    if (!oom_mm || oom_mm === mm || !slab_is_live(mm_cachep, oom_mm)) continue;
    if (!test_bit(MMF_OOM_SKIP, oom_mm + MM.flags)) continue;
    if (!get_mm_rss(oom_mm)) continue;
    printk(
      KERN_ERR,
      `BUG: spurious OOM kill: pid ${task_pid(victim)} (${task_comm(victim)}) killed while OOM victim ${task_pid(t)} (${task_comm(t)}) still holds ${rss_text(oom_mm)} under MMF_OOM_SKIP`,
    );
  }
}

// mm/oom_kill.c oom_kill_process(), v4.14, for `chosen` (callers need hold no reference: this
// takes its own). The dump header, the "sacrifice child" pick among children and the kill of
// other processes sharing the mm are not modelled (a process here has no children and shares
// its mm with nobody). v5.x prints "Out of memory: Killed process ..." instead: v4.14's lines here.
export function oom_kill_process(chosen: number, points = 0, message = 'Out of memory'): void {
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
  if (!points) points = oom_badness(p, nr_pages());
  printk(
    KERN_ERR,
    `${message}: Kill process ${task_pid(p)} (${task_comm(p)}) score ${points} or sacrifice child`,
  );

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
  do_send_sig_info_SIGKILL(victim);
  mark_oom_victim(victim);
  printk(
    KERN_ERR,
    `Killed process ${task_pid(victim)} (${task_comm(victim)}) total-vm:${K(kread(mm + MM.total_vm))}kB, ${rss_text(mm)}`,
  );
  check_spurious_oom_kill(victim, mm);
  task_unlock(victim);
  wake_oom_reaper(victim);
  mmdrop(mm);
  put_task_struct(victim);
}

// mm/oom_kill.c out_of_memory(), v4.14, for a global OOM (no memcg, no notifiers registered, no
// sysrq): an exiting current just gets the reaper; otherwise the worst task is killed, unless an
// earlier victim is still on its way out. True when something was done about it.
export function out_of_memory(): boolean {
  if (Atomics.load(mem.i32, g('oom_killer_disabled'))) return false;
  const cur = get_current();
  if (cur && task_will_free_mem(cur)) {
    mark_oom_victim(cur);
    wake_oom_reaper(cur);
    return true;
  }
  const oc: OomControl = { chosen: 0, chosen_points: 0, totalpages: nr_pages() };
  select_bad_process(oc);
  if (!oc.chosen) {
    printk(KERN_EMERG, 'Kernel panic - not syncing: Out of memory and no killable processes...');
    return false;
  }
  if (oc.chosen !== OOM_ABORT) {
    oom_kill_process(oc.chosen, oc.chosen_points);
    put_task_struct(oc.chosen); // select_bad_process()'s reference
  }
  return true;
}
