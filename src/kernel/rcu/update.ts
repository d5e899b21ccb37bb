// include/linux/rcupdate.h and kernel/rcu/update.c (v6.6): the RCU read side. A reader never
// blocks and never waits for anyone: rcu_read_lock()/rcu_read_unlock() only store this CPU's reader
// word (liburcu's memb flavour, see rcu.ts for the design) and, as in a !CONFIG_PREEMPT_RCU kernel,
// disable preemption for the section.
import { atomicPoint, cpuCtx, point } from '../../cpu/context.js';
import { mem } from '../../shm/arena.js';
import { check_kernel_pointer, dump_stack, print_tainted, WARN_ON_ONCE } from '../panic.js';
import { preempt_count, preempt_disable, preempt_enable } from '../preempt.js';
import { KERN_WARNING, printk } from '../printk.js';
import { utsname } from '../utsname.js';
import {
  RCU_STATE,
  rcuReaderSlot,
  rcuReaderWord,
  rcuState,
  URCU_GP_COUNT,
  URCU_GP_CTR_NEST_MASK,
} from './rcu.js';

/** This CPU's reader word. */
function myReaderWord(): number {
  return rcuReaderWord(rcuReaderSlot(cpuCtx.cpu));
}

// include/linux/rcupdate.h rcu_read_lock(), v6.6 (reader word: liburcu urcu/static/urcu-common.h
// _urcu_common_read_lock_update(), memb flavour)
export function rcu_read_lock(): void {
  const i32 = mem.i32;
  const me = myReaderWord();
  // __rcu_read_lock() of a !CONFIG_PREEMPT_RCU kernel is preempt_disable().
  preempt_disable();
  // A plain load: only this CPU writes its reader word (grace periods only load it), so its own
  // last store is what it reads. The stores below stay Atomics: a grace period scans the word.
  const tmp = i32[me]!;
  if ((tmp & URCU_GP_CTR_NEST_MASK) === 0) {
    // Outermost: copy the global phase (and a nesting count of 1). A CPU delayed between this load
    // and the store below publishes a phase that may already be stale; that reader is why a grace
    // period needs two phases (tree.ts).
    atomicPoint('rcu_read_lock:gp_ctr'); // preempt-disabled, no phase yet: only an RCU-sched scan sees us
    const ctr = Atomics.load(i32, RCU_STATE.base() + RCU_STATE.layout.gp_ctr);
    point('rcu_read_lock');
    Atomics.store(i32, me, ctr);
  } else {
    WARN_ON_ONCE(
      (tmp & URCU_GP_CTR_NEST_MASK) === URCU_GP_CTR_NEST_MASK,
      'include/linux/rcupdate.h:rcu_read_lock nesting overflow',
    );
    Atomics.store(i32, me, (tmp + URCU_GP_COUNT) | 0);
    point('rcu_read_lock');
  }
}

// include/linux/rcupdate.h rcu_read_unlock(), v6.6 (reader word: liburcu
// urcu/static/urcu-common.h _urcu_common_read_unlock_update_and_wakeup(), memb flavour)
export function rcu_read_unlock(): void {
  const i32 = mem.i32;
  const me = myReaderWord();
  const tmp = i32[me]!; // this CPU's own word (rcu_read_lock())
  const nesting = tmp & URCU_GP_CTR_NEST_MASK;
  if (WARN_ON_ONCE(nesting === 0, 'kernel/rcu/update.c:rcu_read_unlock without rcu_read_lock')) return;
  point('rcu_read_unlock');
  Atomics.store(i32, me, (tmp - URCU_GP_COUNT) | 0);
  if (nesting === URCU_GP_COUNT) {
    // wake_up_gp(): the grace-period leader went to sleep waiting for readers.
    const futex = rcuState('gp_futex');
    atomicPoint('rcu_read_unlock:gp_futex'); // the leader may announce its sleep and scan us gone
    if (Atomics.load(i32, futex) === -1) {
      atomicPoint('wake_up_gp:futex'); // the leader may finish (or the next one announce) first
      Atomics.store(i32, futex, 0);
      cpuCtx.runner.wake(futex, 1);
    }
    atomicPoint('rcu_read_unlock:preempt_enable'); // reader word idle, preempt count not yet
  }
  preempt_enable();
}

// include/linux/rcupdate.h rcu_read_lock_sched(), v4.14: an RCU-sched reader is a preempt-disabled
// region; synchronize_sched() (v4.20+: synchronize_rcu()) waits for it.
export function rcu_read_lock_sched(): void {
  preempt_disable();
  point('rcu_read_lock_sched');
}

// include/linux/rcupdate.h rcu_read_unlock_sched(), v4.14
export function rcu_read_unlock_sched(): void {
  if (WARN_ON_ONCE(preempt_count() === 0, 'include/linux/rcupdate.h:rcu_read_unlock_sched without lock'))
    return;
  point('rcu_read_unlock_sched');
  preempt_enable();
}

// kernel/rcu/update.c rcu_read_lock_sched_held(), v4.14
export function rcu_read_lock_sched_held(): boolean {
  return preempt_count() > 0;
}

/** rcu_read_lock() nesting depth of this CPU (0 outside a read-side critical section). */
export function rcuReadLockNesting(cpu = cpuCtx.cpu): number {
  return Atomics.load(mem.i32, rcuReaderWord(rcuReaderSlot(cpu))) & URCU_GP_CTR_NEST_MASK;
}

// kernel/rcu/update.c rcu_read_lock_held(), v6.6
export function rcu_read_lock_held(): boolean {
  return (mem.i32[myReaderWord()]! & URCU_GP_CTR_NEST_MASK) !== 0; // own word: a plain load
}

// kernel/rcu/update.c rcu_read_lock_any_held(), v6.6: any RCU reader, including preempt-disabled
// regions (a spinlock holder is an RCU-sched reader since the v4.20 flavour consolidation).
export function rcu_read_lock_any_held(): boolean {
  return rcu_read_lock_held() || preempt_count() > 0;
}

// kernel/locking/lockdep.c lockdep_rcu_suspicious(), v6.6: printed once per run.
export function lockdep_rcu_suspicious(site: string, s: string): void {
  if (Atomics.exchange(mem.i32, rcuState('suspicious_warned'), 1) !== 0) return;
  printk(
    KERN_WARNING,
    [
      '',
      '=============================',
      'WARNING: suspicious RCU usage',
      `${utsname.release} #1 ${print_tainted()}`,
      '-----------------------------',
      `${site} ${s}`,
      '',
      'other info that might help us debug this:',
      '',
      `rcu_scheduler_active = 2, debug_locks = 1, rcu_read_lock nesting = ${rcuReadLockNesting()}`,
      '',
      'stack backtrace:',
    ].join('\n'),
  );
  dump_stack(KERN_WARNING);
}

// include/linux/rcupdate.h rcu_dereference(), v6.6: `p` is the address of the RCU-protected
// pointer; returns the pointer. Outside a read-side critical section it is a lockdep-RCU splat.
export function rcu_dereference(p: number): number {
  check_kernel_pointer(p, false);
  if (!rcu_read_lock_held())
    lockdep_rcu_suspicious(
      'include/linux/rcupdate.h:rcu_dereference',
      'suspicious rcu_dereference_check() usage!',
    );
  return Atomics.load(mem.i32, p);
}

// include/linux/rcupdate.h rcu_dereference_protected(), v6.6: update-side access; `c` is the
// lockdep condition that the caller holds the update-side lock.
export function rcu_dereference_protected(p: number, c: boolean): number {
  check_kernel_pointer(p, false);
  if (!c)
    lockdep_rcu_suspicious(
      'include/linux/rcupdate.h:rcu_dereference_protected',
      'suspicious rcu_dereference_protected() usage!',
    );
  return Atomics.load(mem.i32, p);
}

// include/linux/rcupdate.h rcu_access_pointer(), v6.6: the pointer value, not to be dereferenced.
export function rcu_access_pointer(p: number): number {
  check_kernel_pointer(p, false);
  return Atomics.load(mem.i32, p);
}

// include/linux/rcupdate.h rcu_assign_pointer(), v6.6: publication (smp_store_release, implied by
// the SC store).
export function rcu_assign_pointer(p: number, v: number): void {
  check_kernel_pointer(p, true);
  Atomics.store(mem.i32, p, v);
}
