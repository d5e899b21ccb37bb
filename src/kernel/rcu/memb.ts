// liburcu src/urcu.c @ 014775106c60 (memb flavour, classic two-flip form): the wait for
// rcu_read_lock() sections that a grace period does. Flip the phase of gp_ctr, wait until no CPU
// shows an active section of the old phase, and do it twice. See rcu.ts for why memb.
//
// Why twice: a reader may load gp_ctr, be delayed, and store the (by then old) phase after the
// writer scanned it as idle. Under SC that reader cannot see data unpublished before this grace
// period, but it carries the stale phase into the next one, which would take it for a new reader.
// The second flip and wait catch it.
import { atomicPoint, cpuCtx, point } from '../../cpu/context.js';
import { atomicPoints } from '../../cpu/granularity.js';
import { mem } from '../../shm/arena.js';
import { KERN_ERR, printk } from '../printk.js';
import { HZ, jiffies } from '../time.js';
import {
  RCU_READER_SLOTS,
  RCU_STATE,
  rcuReaderWord,
  rcuRunCpus,
  rcuState,
  URCU_GP_CTR_NEST_MASK,
  URCU_GP_CTR_PHASE,
} from './rcu.js';

// liburcu src/urcu.c: busy-poll this many scans before sleeping on gp_futex.
export const RCU_QS_ACTIVE_ATTEMPTS = 100;
/** Longest single sleep of a grace period (emulated ms); a wake-up normally comes much sooner. */
export const GP_FUTEX_WAIT_MS = 10;
// kernel/rcu/Kconfig CONFIG_RCU_CPU_STALL_TIMEOUT default, seconds.
export const RCU_CPU_STALL_TIMEOUT = 21;

// liburcu src/urcu.c synchronize_rcu() @ 014775106c60, the part between the grace period's start
// and end (kernel/rcu/tree.c rcu_gp_init() .. rcu_gp_cleanup() keep gp_seq around it, tree.ts).
// `skip` is the caller's reader slot. Caller holds gp_mutex.
export function urcu_memb_wait_for_readers(skip: number): void {
  const ctr = rcuState('gp_ctr');
  for (let phase = 0; phase < 2; phase++) {
    point('rcu_gp_flip');
    Atomics.xor(mem.i32, ctr, URCU_GP_CTR_PHASE);
    wait_for_readers(skip);
  }
}

/** URCU_READER_ACTIVE_OLD: the slot is inside a section that began before the last phase flip. */
function readerActiveOld(slot: number, gpCtr: number): boolean {
  const v = Atomics.load(mem.i32, rcuReaderWord(slot));
  return (v & URCU_GP_CTR_NEST_MASK) !== 0 && ((v ^ gpCtr) & URCU_GP_CTR_PHASE) !== 0;
}

/** The first reader slot still in an old-phase section, or -1. */
function firstOldReader(skip: number): number {
  const gpCtr = Atomics.load(mem.i32, rcuState('gp_ctr'));
  const last = atomicPoints() ? rcuRunCpus() : 0; // slots 1..last belong to the run's CPUs
  for (let s = 0; s < RCU_READER_SLOTS; s++) {
    if (s === skip) continue;
    // After the flip or the previous slot: this CPU may enter or leave a section meanwhile.
    if (s >= 1 && s <= last) atomicPoint('wait_for_readers:reader');
    if (readerActiveOld(s, gpCtr)) return s;
  }
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
      if (wait_loops >= RCU_QS_ACTIVE_ATTEMPTS) {
        atomicPoint('wait_for_readers:futex'); // a leaving reader may still see -1 and wake us
        Atomics.store(i32, futex, 0);
      }
      return;
    }
    point('rcu_gp_wait');
    if (wait_loops < RCU_QS_ACTIVE_ATTEMPTS) {
      runner.relax(wait_loops);
      continue;
    }
    if (!stallReported && jiffies() - start >= RCU_CPU_STALL_TIMEOUT * HZ) {
      stallReported = true;
      print_other_cpu_stall(
        old - 1,
        `rcu_read_lock nesting ${Atomics.load(i32, rcuReaderWord(old)) & URCU_GP_CTR_NEST_MASK}`,
        start,
      );
    }
    runner.wait(futex, -1, GP_FUTEX_WAIT_MS);
  }
}

// kernel/rcu/tree_stall.h print_other_cpu_stall(), v6.6 (one report per wait of a grace period).
export function print_other_cpu_stall(cpu: number, what: string, gpStart: number): void {
  printk(
    KERN_ERR,
    [
      'rcu: INFO: rcu_sched detected stalls on CPUs/tasks:',
      `rcu: \t${cpu}-...!: (${what})`,
      `rcu: \t(detected by ${cpuCtx.cpu}, t=${jiffies() - gpStart} jiffies, g=${Atomics.load(mem.i32, RCU_STATE.base() + RCU_STATE.layout.gp_seq)})`,
    ].join('\n'),
  );
}
