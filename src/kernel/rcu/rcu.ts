// kernel/rcu/rcu.h and kernel/rcu/tree.h (v6.6): RCU's shared state and its grace-period sequence
// numbers. The rest of kernel/rcu/ builds on this file:
//   update.ts     the read side: rcu_read_lock/unlock, rcu_dereference, rcu_assign_pointer
//   tree.ts       grace periods: synchronize_rcu and the polled cookie API
//   callbacks.ts  call_rcu, rcu_do_batch, rcu_barrier and the registry of callback functions
//   gp_kthread.ts rcu_gp_kthread, which drives grace periods for callbacks and invokes them
//
// DESIGN CHOICE: the grace-period machinery is userspace RCU's *memb* flavour (liburcu src/urcu.c
// @ 014775106c60), not QSBR and not Tree RCU's quiescent-state tree. Each CPU has one reader word:
// nesting depth in the low 16 bits and a phase bit copied from the global `gp_ctr` by the
// outermost rcu_read_lock(). A grace period flips the phase and waits until no CPU shows an active
// section of the old phase, twice. Why memb:
//  - Readers are exactly the rcu_read_lock() sections the scenario wrote. QSBR would need every CPU
//    to report quiescent states from its scheduler loop, but a CPU here runs one long program per
//    run and never returns to a loop, so a CPU that merely computes (or waits in a kernel lock)
//    would stall every grace period; memb lets an idle or busy non-reader CPU never delay one.
//  - synchronize_rcu() then waits for the pre-existing sections and, at most, for sections that
//    began between its two flips; sections that begin after the second flip copy the new phase and
//    are never waited for, so a stream of new readers cannot starve a writer.
//  - Tree RCU's context-switch quiescent states have no equivalent on a worker that never switches
//    tasks; its gp_seq bookkeeping is kept, so cookies behave like the kernel's.
// Every shared word is an Atomics op (sequentially consistent), so urcu's smp_mb_slave() /
// smp_mb_master() (membarrier) pairs are implied. Consequently a reader or updater bug that needs a
// missing barrier (e.g. rcu_dereference replaced by a plain load on Alpha) does not reproduce here.
//
// The read side models a !CONFIG_PREEMPT_RCU kernel: rcu_read_lock() also disables preemption, so
// sleeping inside a reader is reported as "sleeping function called from invalid context".
//
// Flavours (flavour.ts, chosen by the era profile): a preempt-disabled region (a spinlock holder,
// rcu_read_lock_sched()) is an RCU-sched reader, seen through the per-CPU preempt count in the
// arena (sched_qs.ts). Before v4.20 there are two grace-period domains, each with its own gp_seq:
// plain RCU (synchronize_rcu, call_rcu) waits for rcu_read_lock() sections only, as the
// preemptible rcu_preempt flavour of a CONFIG_PREEMPT kernel does, and RCU-sched
// (synchronize_sched, call_rcu_sched) for preempt-disabled regions. From v4.20 synchronize_rcu()
// waits for both. No expedited grace periods, no per-CPU callback lists (one FIFO ring).
import { BOOT_CPU } from '../../cpu/context.js';
import { C, ctl, MAX_CPUS } from '../../cpu/control.js';
import { mem } from '../../shm/arena.js';
import { defineStatics } from '../../shm/statics.js';
import { WARN_ON_ONCE } from '../panic.js';
import { preemptReset } from '../preempt.js';

/** One reader word per CPU, plus one for the boot CPU (the main thread while it sets a machine up). */
export const RCU_READER_SLOTS = MAX_CPUS + 1;

// liburcu include/urcu/static/urcu-common.h (32-bit long): the reader and gp counter layout.
export const URCU_GP_COUNT = 1;
export const URCU_GP_CTR_PHASE = 1 << 16;
export const URCU_GP_CTR_NEST_MASK = URCU_GP_CTR_PHASE - 1;

/** How many callback records the shared callback queue holds (a power of two). */
export const RCU_CBLIST_CAPACITY = 4096;
/** Words of one callback record: rcu_head pointer, callback id, grace-period cookie, domain. */
export const RCU_CB_WORDS = 4;
export const CB_HEAD = 0;
export const CB_FUNC = 1;
export const CB_COOKIE = 2;
export const CB_DOMAIN = 3;

/** Grace-period domains: plain RCU, and before v4.20 RCU-sched with its own gp_seq. */
export const RCU_DOMAIN = 0;
export const RCU_SCHED_DOMAIN = 1;
export type RcuDomain = typeof RCU_DOMAIN | typeof RCU_SCHED_DOMAIN;

/** struct rcu_state (kernel/rcu/tree.h) + struct urcu_gp and the per-CPU urcu_reader words. */
export const RCU_STATE = defineStatics('rcu_state', [
  'gp_seq', // Tree RCU's grace-period sequence: low 2 bits the phase, counter above
  'gp_seq_sched', // the same for the RCU-sched domain (before v4.20, rcu_sched_state's own gp_seq)
  'gp_ctr', // urcu's rcu_gp.ctr: URCU_GP_COUNT | the current phase bit
  'gp_futex', // urcu's rcu_gp.futex: -1 while the grace-period leader sleeps waiting for readers
  'gp_mutex', // serializes grace periods (urcu's rcu_gp_lock): 0 free, 1 locked, 2 locked + waiters
  'gp_kthread', // task running rcu_gp_kthread(), 0 when none
  'suspicious_warned', // lockdep-RCU splats are printed once per run
  `reader_ctr[${RCU_READER_SLOTS}]`,
]);

/** The callback queue (a FIFO ring standing in for the per-CPU rcu_segcblist). */
export const RCU_CBLIST = defineStatics('rcu_cblist', [
  'lock', // ticket spinlock over the ring indexes and records
  'invoke_lock', // ticket spinlock serializing callback invocation (one rcu_do_batch at a time)
  'invoker', // reader slot + 1 of the CPU inside rcu_do_batch(), 0 when none
  'enqueued', // callbacks ever queued (ring tail)
  'dequeued', // callbacks taken for invocation (ring head)
  'invoked', // callbacks that have returned
  `rec[${RCU_CBLIST_CAPACITY * RCU_CB_WORDS}]`,
]);

// kernel/rcu/rcu.h, v6.6
export const RCU_SEQ_CTR_SHIFT = 2;
export const RCU_SEQ_STATE_MASK = (1 << RCU_SEQ_CTR_SHIFT) - 1;
/** kernel/rcu/tree.c: gp_seq starts 300 grace periods before wrapping, to exercise the wrap early. */
export const RCU_SEQ_INIT = (-300 << RCU_SEQ_CTR_SHIFT) | 0;
// include/linux/rcupdate.h, v6.6: a cookie that poll_state_synchronize_rcu() always accepts.
export const RCU_GET_STATE_COMPLETED = 0x1;

export function rcuState(field: Exclude<keyof typeof RCU_STATE.layout, 'NAME' | 'SIZE'>): number {
  return RCU_STATE.base() + RCU_STATE.layout[field];
}

export function rcuCblist(field: Exclude<keyof typeof RCU_CBLIST.layout, 'NAME' | 'SIZE'>): number {
  return RCU_CBLIST.base() + RCU_CBLIST.layout[field];
}

/** The reader-word slot of `cpu` (the boot CPU has slot 0). */
export function rcuReaderSlot(cpu: number): number {
  const s = cpu === BOOT_CPU ? 0 : cpu + 1;
  if (s < 0 || s >= RCU_READER_SLOTS) throw new RangeError(`rcu: no reader word for CPU ${cpu}`);
  return s;
}

/**
 * CPUs taking part in the run: only their reader words and preempt counts change while it runs
 * (the boot CPU's stay idle), so a grace period's scan needs an atomic point before theirs only.
 */
export function rcuRunCpus(): number {
  return Atomics.load(mem.i32, ctl() + C.NCPUS);
}

/** Address of the reader word of reader slot `slot`. */
export function rcuReaderWord(slot: number): number {
  return RCU_STATE.base() + RCU_STATE.layout.reader_ctr + slot;
}

// include/linux/rcupdate.h ULONG_CMP_GE(), v6.6: wrap-safe `a >= b` on (here 32-bit) counters.
export function ULONG_CMP_GE(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

// kernel/rcu/rcu.h rcu_seq_state(), v6.6
export function rcu_seq_state(s: number): number {
  return s & RCU_SEQ_STATE_MASK;
}

// kernel/rcu/rcu.h rcu_seq_start(), v6.6: a grace period is now in progress.
export function rcu_seq_start(sp: number): void {
  const s = (Atomics.load(mem.i32, sp) + 1) | 0;
  Atomics.store(mem.i32, sp, s);
  WARN_ON_ONCE(rcu_seq_state(s) !== 1, 'kernel/rcu/rcu.h:rcu_seq_start');
}

// kernel/rcu/rcu.h rcu_seq_endval(), v6.6
export function rcu_seq_endval(sp: number): number {
  return ((Atomics.load(mem.i32, sp) | RCU_SEQ_STATE_MASK) + 1) | 0;
}

// kernel/rcu/rcu.h rcu_seq_end(), v6.6: the grace period is over.
export function rcu_seq_end(sp: number): void {
  WARN_ON_ONCE(rcu_seq_state(Atomics.load(mem.i32, sp)) === 0, 'kernel/rcu/rcu.h:rcu_seq_end');
  Atomics.store(mem.i32, sp, rcu_seq_endval(sp));
}

// kernel/rcu/rcu.h rcu_seq_snap(), v6.6: the gp_seq value at which a full grace period that starts
// after this call will have ended.
export function rcu_seq_snap(sp: number): number {
  return ((Atomics.load(mem.i32, sp) + 2 * RCU_SEQ_STATE_MASK + 1) & ~RCU_SEQ_STATE_MASK) | 0;
}

// kernel/rcu/rcu.h rcu_seq_done(), v6.6
export function rcu_seq_done(sp: number, s: number): boolean {
  return ULONG_CMP_GE(Atomics.load(mem.i32, sp), s);
}

/**
 * Per-run reset: no readers (preempt counts included), no grace period, no callbacks queued.
 * Between runs, while no CPU runs: plain fills (the callback list is 16 K words, which one
 * Atomics.store each took 0.13 ms of every DFS run); the run's start is an Atomics store and
 * notify, after which every CPU sees them.
 */
export function rcuReset(): void {
  preemptReset();
  const i32 = mem.i32;
  const s = RCU_STATE.base();
  i32.fill(0, s, s + RCU_STATE.layout.SIZE);
  Atomics.store(i32, s + RCU_STATE.layout.gp_seq, RCU_SEQ_INIT);
  Atomics.store(i32, s + RCU_STATE.layout.gp_seq_sched, RCU_SEQ_INIT);
  Atomics.store(i32, s + RCU_STATE.layout.gp_ctr, URCU_GP_COUNT);
  const c = RCU_CBLIST.base();
  i32.fill(0, c, c + RCU_CBLIST.layout.SIZE);
}
