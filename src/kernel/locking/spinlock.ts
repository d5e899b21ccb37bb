// A ticket spinlock (x86 arch_spinlock_t before qspinlock): one word, `head` in the low half,
// `tail` in the high half. Lock takes a ticket with one fetch-add; unlock is one final store.
// With lockdep or lock_stat on, the lock goes through spin_acquire() and LOCK_CONTENDED() as
// kernel/locking/spinlock.c does; off (and --trace off), spin_lock and spin_unlock test the
// thread's lock gate (cpu/point_gate.ts) and lockdep's switch (and current's lockdep_depth on
// unlock), then make the preempt count's and the ticket lock's Atomics calls only. The debug
// halves are separate functions, so that the fast paths stay small enough for TurboFan to inline
// into their callers.
import * as cpuContext from '../../cpu/context.js';
import * as pointGate from '../../cpu/point_gate.js';
import { lockGate } from '../../cpu/point_gate.js';
import { LockKind, traceLockAcquired, traceLockReleased } from '../../cpu/trace_buffer.js';
import * as arena from '../../shm/arena.js';
import * as panic from '../panic.js';
import * as preempt from '../preempt.js';
import { LOCK_CONTENDED, lock_release, spin_acquire } from './lockdep.js';
import { LD_WAIT_CONFIG, lockdep_init_map } from './lockdep_classes.js';
import * as lockdepHeld from './lockdep_held.js';
import { initSiteName } from './lockdep_ip.js';
import * as lockdepState from './lockdep_state.js';

// Hot imports as module constants: TurboFan folds a module `const` to the value it held when it
// compiled, so a call through one needs no Cell load, hole check and call-target check as an
// imported binding does (a down_read+up_read pair: about 5 ns of 40, scripts/bench-locks.mjs).
const { atomicPoint, cpuCtx, point } = cpuContext;
const { mem } = arena;
const { check_kernel_pointer } = panic;
const { preempt_disable, preempt_enable } = preempt;
const { currentHoldsTrackedLocks } = lockdepHeld;
const { lockDebugFlags } = lockdepState;
const { GATE_RELEASE_MASK, GATE_SPIN_MASK, gateTracked } = pointGate;

export const TICKET_SHIFT = 16;

// ((lockGate & GATE_SPIN_MASK) | lockDebugFlags()) !== 0: lockdep, lock_stat or --trace on for
// this thread, the lock takes its debug half; a release also when locks were taken with lockdep
// on on this thread (GATE_RELEASE_MASK: current may hold some that lockdep tracked). Written out
// in each: every inlined function's bytecode counts against TurboFan's inlining budget of the
// caller.

// include/linux/spinlock.h spin_lock_init(), v6.6: `name` is the lock class ('ptlock',
// '&mm->page_table_lock'); without it the class is keyed by the init site, like the kernel's
// static lock_class_key in the macro.
export function spin_lock_init(lock: number, name?: string): void {
  Atomics.store(mem.i32, lock, 0);
  if (lockDebugFlags() === 0) return;
  const key = name ?? initSiteName('spin_lock_init');
  if (key) lockdep_init_map(lock, key, LD_WAIT_CONFIG);
}

// arch/x86/include/asm/spinlock.h arch_spin_lock(), v3.x ticket lock. Literals, not TICKET_SHIFT:
// every byte of a fast path's bytecode counts against TurboFan's inlining budget of its caller.
function do_raw_spin_lock(lock: number): void {
  const old = Atomics.add(mem.i32, lock, 0x10000 /* 1 << TICKET_SHIFT */);
  if (old << 16 !== (old & -0x10000)) ticket_spin_wait(lock, old >>> 16); // head !== tail
}

// arch/x86/include/asm/spinlock.h arch_spin_lock(), v3.x ticket lock: the loop for a ticket that
// was not served at once, out of line so that the fast path stays small.
function ticket_spin_wait(lock: number, ticket: number): void {
  const u16 = mem.u16;
  const head = lock * 2;
  const runner = cpuCtx.runner;
  for (let spins = 0; Atomics.load(u16, head) !== ticket; spins++) runner.relax(spins);
}

// arch/x86/include/asm/spinlock.h arch_spin_trylock(), v3.x ticket lock
function do_raw_spin_trylock(lock: number): boolean {
  const old = Atomics.load(mem.i32, lock);
  if ((old & 0xffff) !== old >>> TICKET_SHIFT) return false;
  atomicPoint('spin_trylock:cmpxchg'); // another CPU may take a ticket between the read and the CAS
  return Atomics.compareExchange(mem.i32, lock, old, (old + (1 << TICKET_SHIFT)) | 0) === old;
}

// include/linux/spinlock_api_smp.h __raw_spin_lock(), v6.6
export function spin_lock(lock: number): void {
  if (((lockGate & GATE_SPIN_MASK) | lockDebugFlags()) !== 0) {
    spin_lock_debug(lock);
    return;
  }
  point('spin_lock');
  check_kernel_pointer(lock, true);
  preempt_disable();
  do_raw_spin_lock(lock);
}

// include/linux/spinlock_api_smp.h __raw_spin_lock(), v6.6, with lockdep, lock_stat or --trace on;
// kernel/locking/spinlock.c _raw_spin_lock_nested() too (`subclass`, and its name as `api`).
function spin_lock_debug(lock: number, subclass = 0, api = 'spin_lock'): void {
  point('spin_lock');
  check_kernel_pointer(lock, true);
  preempt_disable();
  if (lockDebugFlags() !== 0) {
    gateTracked(); // this thread's releases check current's held locks from now on
    spin_acquire(lock, 0, api, subclass);
    LOCK_CONTENDED(lock, api, do_raw_spin_trylock, do_raw_spin_lock);
  } else {
    do_raw_spin_lock(lock);
  }
  traceLockAcquired(lock, LockKind.Spin); // --trace: a lock slice until spin_unlock
}

// include/linux/spinlock.h spin_lock_nested(), v6.6 (CONFIG_DEBUG_LOCK_ALLOC:
// _raw_spin_lock_nested()): spin_lock() of a lock whose class this task may already hold
// (copy_pte_range()'s source PTE lock under the destination's: SINGLE_DEPTH_NESTING); without
// lockdep it is spin_lock(). The point keeps spin_lock()'s name.
export function spin_lock_nested(lock: number, subclass: number): void {
  if (((lockGate & GATE_SPIN_MASK) | lockDebugFlags()) !== 0) {
    spin_lock_debug(lock, subclass, 'spin_lock_nested');
    return;
  }
  point('spin_lock');
  check_kernel_pointer(lock, true);
  preempt_disable();
  do_raw_spin_lock(lock);
}

// include/linux/spinlock_api_smp.h __raw_spin_trylock(), v6.6
export function spin_trylock(lock: number): boolean {
  point('spin_trylock');
  check_kernel_pointer(lock, true);
  // preempt_disable() first, as the kernel does: a trylock that fails enables it again.
  preempt_disable();
  if (!do_raw_spin_trylock(lock)) {
    preempt_enable();
    return false;
  }
  if (lockDebugFlags() !== 0) gateTracked();
  if (lockDebugFlags() !== 0) spin_acquire(lock, 1, 'spin_trylock');
  traceLockAcquired(lock, LockKind.Spin);
  return true;
}

// include/linux/spinlock_api_smp.h __raw_spin_unlock(), v6.6: spin_release(), then
// arch_spin_unlock().
export function spin_unlock(lock: number): void {
  check_kernel_pointer(lock, true);
  if (((lockGate & GATE_RELEASE_MASK) | lockDebugFlags()) !== 0) spin_release_debug(lock);
  do_raw_spin_unlock(lock);
  preempt_enable();
  point('spin_unlock');
}

// arch/x86/include/asm/spinlock.h arch_spin_unlock(), v3.x ticket lock: only the holder writes
// `head`, so this store is the unlock and the lock's last access. The read of `head` is plain, as
// the kernel's __add() of it is (no lock prefix): the lock the caller holds excludes every other
// writer of it (mm/kasan.ts kread_locked()'s case); waiters only read it.
function do_raw_spin_unlock(lock: number): void {
  const u16 = mem.u16;
  const h = u16[lock * 2]!;
  atomicPoint('spin_unlock:head');
  Atomics.store(u16, lock * 2, h + 1); // a Uint16Array store wraps 0xffff + 1 to 0
}

// include/linux/spinlock.h spin_release() (lockdep's half of spin_unlock), v6.6, and --trace
function spin_release_debug(lock: number): void {
  traceLockReleased(lock, LockKind.Spin);
  if (currentHoldsTrackedLocks()) lock_release(lock);
}

export function spin_is_locked(lock: number): boolean {
  const v = Atomics.load(mem.i32, lock);
  return (v & 0xffff) !== v >>> TICKET_SHIFT;
}

export const raw_spin_lock = spin_lock;
export const raw_spin_unlock = spin_unlock;
