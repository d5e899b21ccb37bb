// kernel/rcu/tree.c (v6.6): grace periods. synchronize_rcu() and the polled API keep the kernel's
// interface and gp_seq cookies; the grace period itself is liburcu's memb algorithm (src/urcu.c
// @ 014775106c60, classic two-flip form): flip the phase of gp_ctr, wait until no CPU shows an
// active section of the old phase, and do it twice. See rcu.ts for why memb.
//
// Why twice: a reader may load gp_ctr, be delayed, and store the (by then old) phase after the
// writer scanned it as idle. Under SC that reader cannot see data unpublished before this grace
// period, but it carries the stale phase into the next one, which would take it for a new reader.
// The second flip and wait catch it. Whoever needs a grace period runs it (urcu style), serialized
// by gp_mutex; a caller whose cookie was satisfied by someone else's grace period returns at once.
import { cpuCtx, point } from '../../cpu/context.js';
import { mem } from '../../shm/arena.js';
import { KERN_ERR, printk } from '../printk.js';
import { might_sleep } from '../sched.js';
import { HZ, jiffies } from '../time.js';
import {
  RCU_GET_STATE_COMPLETED,
  RCU_READER_SLOTS,
  RCU_STATE,
  rcu_seq_done,
  rcu_seq_end,
  rcu_seq_snap,
  rcu_seq_start,
  rcuReaderSlot,
  rcuReaderWord,
  rcuState,
  URCU_GP_CTR_NEST_MASK,
  URCU_GP_CTR_PHASE,
} from './rcu.js';
import { lockdep_rcu_suspicious, rcu_read_lock_held } from './update.js';

// liburcu src/urcu.c: busy-poll this many scans before sleeping on gp_futex.
export const RCU_QS_ACTIVE_ATTEMPTS = 100;
/** Longest single sleep on gp_futex (emulated ms); a wake-up normally comes much sooner. */
const GP_FUTEX_WAIT_MS = 10;
// kernel/rcu/Kconfig CONFIG_RCU_CPU_STALL_TIMEOUT default, seconds.
export const RCU_CPU_STALL_TIMEOUT = 21;

function gpSeq(): number {
  return RCU_STATE.base() + RCU_STATE.layout.gp_seq;
}

/** The gp_seq value now (for reports and tests): a grace period is in progress when it is odd. */
export function rcuGpSeq(): number {
  return Atomics.load(mem.i32, gpSeq());
}

// kernel/rcu/tree.c get_state_synchronize_rcu(), v6.6
export function get_state_synchronize_rcu(): number {
  return rcu_seq_snap(gpSeq());
}

// kernel/rcu/tree.c poll_state_synchronize_rcu(), v6.6: has a full grace period elapsed since the
// cookie was taken?
export function poll_state_synchronize_rcu(oldstate: number): boolean {
  return oldstate === RCU_GET_STATE_COMPLETED || rcu_seq_done(gpSeq(), oldstate);
}

// kernel/rcu/tree.c synchronize_rcu(), v6.6: wait until every read-side critical section that began
// before the call has ended.
export function synchronize_rcu(): void {
  might_sleep('kernel/rcu/tree.c:synchronize_rcu');
  if (rcu_read_lock_held())
    lockdep_rcu_suspicious(
      'kernel/rcu/tree.c:synchronize_rcu',
      'Illegal synchronize_rcu() in RCU read-side critical section',
    );
  rcuGpSync(get_state_synchronize_rcu());
}

// kernel/rcu/tree.c cond_synchronize_rcu(), v6.6: wait only if no grace period has elapsed since
// the cookie was taken.
export function cond_synchronize_rcu(oldstate: number): void {
  if (!poll_state_synchronize_rcu(oldstate)) synchronize_rcu();
}

/**
 * Returns once poll_state_synchronize_rcu(cookie) holds, running a grace period if nobody else's
 * has covered the cookie. Emulator machinery behind synchronize_rcu(), rcu_barrier() and the GP
 * kthread: it does no might_sleep()/lockdep check of its own. The caller's own reader word is
 * never waited for (a kernel that synchronizes inside a reader deadlocks; the API reported it).
 */
export function rcuGpSync(cookie: number): void {
  if (poll_state_synchronize_rcu(cookie)) return;
  point('synchronize_rcu');
  gpMutexLock();
  try {
    // Someone else's grace period, started after the cookie was taken, may have ended meanwhile
    // (urcu's gp_waiters batching; Tree RCU's rcu_seq_done() check in the GP funnel).
    if (!poll_state_synchronize_rcu(cookie)) urcu_memb_synchronize_rcu();
  } finally {
    gpMutexUnlock();
  }
}

// liburcu src/urcu.c synchronize_rcu() @ 014775106c60 (memb flavour, classic two-flip form), with
// Tree RCU's gp_seq (kernel/rcu/tree.c rcu_gp_init()/rcu_gp_cleanup(), v6.6). Caller holds gp_mutex.
function urcu_memb_synchronize_rcu(): void {
  const i32 = mem.i32;
  const ctr = rcuState('gp_ctr');
  const skip = rcuReaderSlot(cpuCtx.cpu);
  rcu_seq_start(gpSeq());
  for (let phase = 0; phase < 2; phase++) {
    point('rcu_gp_flip');
    Atomics.xor(i32, ctr, URCU_GP_CTR_PHASE);
    wait_for_readers(skip);
  }
  rcu_seq_end(gpSeq());
  point('rcu_gp_end');
}

/** URCU_READER_ACTIVE_OLD: the slot is inside a section that began before the last phase flip. */
function readerActiveOld(slot: number, gpCtr: number): boolean {
  const v = Atomics.load(mem.i32, rcuReaderWord(slot));
  return (v & URCU_GP_CTR_NEST_MASK) !== 0 && ((v ^ gpCtr) & URCU_GP_CTR_PHASE) !== 0;
}

/** The first reader slot still in an old-phase section, or -1. */
function firstOldReader(skip: number): number {
  const gpCtr = Atomics.load(mem.i32, rcuState('gp_ctr'));
  for (let s = 0; s < RCU_READER_SLOTS; s++) if (s !== skip && readerActiveOld(s, gpCtr)) return s;
  return -1;
}

// liburcu src/urcu.c wait_for_readers() + wait_gp() @ 014775106c60: poll, then sleep on gp_futex
// until the outermost rcu_read_unlock() of an old-phase reader wakes us.
function wait_for_readers(skip: number): void {
  const i32 = mem.i32;
  const futex = rcuState('gp_futex');
  const runner = cpuCtx.runner;
  const start = jiffies();
  let stallReported = false;
  for (let wait_loops = 0; ; ) {
    if (wait_loops < RCU_QS_ACTIVE_ATTEMPTS) wait_loops++;
    // Announce the sleep before the scan, so a reader that leaves after the scan sees -1 and wakes us.
    if (wait_loops >= RCU_QS_ACTIVE_ATTEMPTS) Atomics.store(i32, futex, -1);
    const old = firstOldReader(skip);
    if (old < 0) {
      if (wait_loops >= RCU_QS_ACTIVE_ATTEMPTS) Atomics.store(i32, futex, 0);
      return;
    }
    point('rcu_gp_wait');
    if (wait_loops < RCU_QS_ACTIVE_ATTEMPTS) {
      runner.relax(wait_loops);
      continue;
    }
    if (!stallReported && jiffies() - start >= RCU_CPU_STALL_TIMEOUT * HZ) {
      stallReported = true;
      print_other_cpu_stall(old, start);
    }
    runner.wait(futex, -1, GP_FUTEX_WAIT_MS);
  }
}

// kernel/rcu/tree_stall.h print_other_cpu_stall(), v6.6 (one report per grace period).
function print_other_cpu_stall(slot: number, gpStart: number): void {
  const v = Atomics.load(mem.i32, rcuReaderWord(slot));
  const cpu = slot - 1;
  printk(
    KERN_ERR,
    [
      'rcu: INFO: rcu_sched detected stalls on CPUs/tasks:',
      `rcu: \t${cpu}-...!: (rcu_read_lock nesting ${v & URCU_GP_CTR_NEST_MASK})`,
      `rcu: \t(detected by ${cpuCtx.cpu}, t=${jiffies() - gpStart} jiffies, g=${rcuGpSeq()})`,
    ].join('\n'),
  );
}

/**
 * Serializes grace periods (liburcu's rcu_gp_lock): a futex mutex (0 free, 1 locked, 2 locked with
 * sleepers) whose sleepers wait through the runner, since the holder waits for readers a long time.
 */
function gpMutexLock(): void {
  const i32 = mem.i32;
  const m = rcuState('gp_mutex');
  if (Atomics.compareExchange(i32, m, 0, 1) === 0) return;
  while (Atomics.exchange(i32, m, 2) !== 0) cpuCtx.runner.wait(m, 2, GP_FUTEX_WAIT_MS);
}

function gpMutexUnlock(): void {
  const i32 = mem.i32;
  const m = rcuState('gp_mutex');
  if (Atomics.sub(i32, m, 1) !== 1) {
    Atomics.store(i32, m, 0);
    cpuCtx.runner.wake(m, 1);
  }
}
