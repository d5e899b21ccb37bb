// include/linux/seqlock.h (v6.6; raw_seqcount_try_begin from v6.13): sequence counters and
// seqlocks. A seqcount_t is one Int32 word holding `sequence` (even: stable, odd: a write is in
// progress); seqcount_latch_t is the same word used only through the latch API; seqlock_t is a
// seqcount plus the ticket spinlock that serializes its writers.
//
// Memory ordering: every access to `sequence` is an Atomics op, so it is sequentially consistent
// and the kernel's smp_wmb()/smp_rmb()/smp_load_acquire() pairings are all implied. The protected
// data must be read and written through Atomics as well (kread/kwrite, Atomics.load/store): then
// the protocol is exactly the kernel's. SC HIDES BUGS here: a kernel writer that bumps `sequence`
// without smp_wmb(), or a reader that uses __read_seqcount_retry() without supplying its own
// smp_rmb(), is broken on arm64/POWER but behaves correctly in this emulator.
import * as cpuContext from '../../cpu/context.js';
import * as arena from '../../shm/arena.js';
import { defineStruct } from '../../shm/layout.js';
import * as panic from '../panic.js';
import { WARN_ON_ONCE } from '../panic.js';
import { spin_is_locked, spin_lock, spin_lock_init, spin_unlock } from './spinlock.js';

// Hot imports as module constants: TurboFan folds a module `const` to the value it held when it
// compiled, so a call through one needs no Cell load, hole check and call-target check as an
// imported binding does (a down_read+up_read pair: about 5 ns of 40, scripts/bench-locks.mjs).
const { atomicPoint, cpuCtx, point } = cpuContext;
const { mem } = arena;
const { check_kernel_pointer } = panic;

/** seqlock_t (include/linux/seqlock_types.h, v6.7+): { seqcount_spinlock_t seqcount; spinlock_t lock; } */
export const SEQLOCK = defineStruct('seqlock_t', ['seqcount', 'lock']);

/**
 * An `unsigned *seq` out-parameter (raw_seqcount_try_begin's `start`, read_seqbegin_or_lock's
 * `seq`). Sequence values are the kernel's unsigned counter as an int32 bit pattern: compare them
 * with `===` and test parity with `& 1`, never with `<`.
 */
export interface SeqRef {
  seq: number;
}

export function seqcount_init(s: number): void {
  Atomics.store(mem.i32, s, 0);
}

export function seqcount_latch_init(s: number): void {
  Atomics.store(mem.i32, s, 0);
}

// --- write side -----------------------------------------------------------------------------

// include/linux/seqlock.h do_raw_write_seqcount_begin(), v6.6
function do_raw_write_seqcount_begin(s: number): void {
  // `sequence++` is a plain increment in the kernel: writers are serialized by their lock, so an
  // unserialized second writer loses an update here exactly as it would there. The smp_wmb()
  // that follows is implied by the SC store.
  // At atomic granularity a CPU may be switched out between the load and the store.
  const i32 = mem.i32;
  const seq = Atomics.load(i32, s);
  atomicPoint('seqcount:inc');
  Atomics.store(i32, s, (seq + 1) | 0);
}

// include/linux/seqlock.h do_raw_write_seqcount_end(), v6.6
function do_raw_write_seqcount_end(s: number): void {
  // smp_wmb() before the increment: implied by SC.
  const i32 = mem.i32;
  const seq = Atomics.load(i32, s);
  atomicPoint('seqcount:inc');
  Atomics.store(i32, s, (seq + 1) | 0);
}

// include/linux/seqlock.h __seqprop_spinlock_assert() -> lockdep_assert_held(s->lock), v6.6
function __seqprop_spinlock_assert(lock: number): void {
  // lockdep checks that *this task* holds the lock; the ticket lock records no owner, so this
  // only catches a lock nobody holds. The kernel's lockdep_assert_held() is a WARN_ON() that goes
  // quiet once the first warning's taint turns debug_locks off, hence once here.
  WARN_ON_ONCE(!spin_is_locked(lock), 'include/linux/seqlock.h:__seqprop_spinlock_assert');
}

// include/linux/seqlock.h raw_write_seqcount_begin(), v6.6
export function raw_write_seqcount_begin(s: number): void {
  point('raw_write_seqcount_begin');
  check_kernel_pointer(s, true);
  do_raw_write_seqcount_begin(s);
}

// include/linux/seqlock.h raw_write_seqcount_end(), v6.6
export function raw_write_seqcount_end(s: number): void {
  point('raw_write_seqcount_end');
  check_kernel_pointer(s, true);
  do_raw_write_seqcount_end(s);
}

// include/linux/seqlock.h write_seqcount_begin(), v6.6 (seqcount_spinlock_t: `lock` is s->lock)
export function write_seqcount_begin(s: number, lock: number): void {
  point('write_seqcount_begin');
  check_kernel_pointer(s, true);
  __seqprop_spinlock_assert(lock);
  do_raw_write_seqcount_begin(s);
}

// include/linux/seqlock.h write_seqcount_end(), v6.6. Like the kernel's, it asserts nothing:
// `lock` is taken only so that begin and end read alike at the call site.
export function write_seqcount_end(s: number, _lock: number): void {
  point('write_seqcount_end');
  check_kernel_pointer(s, true);
  do_raw_write_seqcount_end(s);
}

// include/linux/seqlock.h raw_write_seqcount_barrier(), v6.6
export function raw_write_seqcount_barrier(s: number): void {
  point('raw_write_seqcount_barrier');
  check_kernel_pointer(s, true);
  // sequence++; smp_wmb(); sequence++: two separate stores, so the odd value is visible in between.
  do_raw_write_seqcount_begin(s);
  atomicPoint('raw_write_seqcount_barrier:odd');
  do_raw_write_seqcount_end(s);
}

// include/linux/seqlock.h write_seqcount_invalidate(), v6.6
export function write_seqcount_invalidate(s: number): void {
  point('write_seqcount_invalidate');
  check_kernel_pointer(s, true);
  // smp_wmb(); sequence += 2: one store, so no reader ever sees an odd value from it.
  const i32 = mem.i32;
  const seq = Atomics.load(i32, s);
  atomicPoint('seqcount:add2');
  Atomics.store(i32, s, (seq + 2) | 0);
}

// --- read side ------------------------------------------------------------------------------

// include/linux/seqlock.h __read_seqcount_begin(), v6.6
function __read_seqcount_begin(s: number): number {
  const i32 = mem.i32;
  let seq = Atomics.load(i32, s);
  if ((seq & 1) === 0) return seq;
  const runner = cpuCtx.runner;
  for (let spins = 0; (seq & 1) !== 0; spins++) {
    runner.relax(spins); // cpu_relax()
    seq = Atomics.load(i32, s);
  }
  return seq;
}

// include/linux/seqlock.h do___read_seqcount_retry(), v6.6
function do___read_seqcount_retry(s: number, start: number): boolean {
  // The smp_rmb() of do_read_seqcount_retry() is implied by SC (see the file comment).
  return Atomics.load(mem.i32, s) !== start;
}

// include/linux/seqlock.h raw_read_seqcount(), v6.6
export function raw_read_seqcount(s: number): number {
  point('raw_read_seqcount');
  check_kernel_pointer(s, false);
  return Atomics.load(mem.i32, s);
}

// include/linux/seqlock.h read_seqcount_begin(), v6.6
export function read_seqcount_begin(s: number): number {
  point('read_seqcount_begin');
  check_kernel_pointer(s, false);
  return __read_seqcount_begin(s);
}

// include/linux/seqlock.h raw_read_seqcount_begin(), v6.6 (read_seqcount_begin without lockdep)
export function raw_read_seqcount_begin(s: number): number {
  point('raw_read_seqcount_begin');
  check_kernel_pointer(s, false);
  return __read_seqcount_begin(s);
}

// include/linux/seqlock.h read_seqcount_retry(), v6.6
export function read_seqcount_retry(s: number, start: number): boolean {
  point('read_seqcount_retry');
  check_kernel_pointer(s, false);
  return do___read_seqcount_retry(s, start);
}

// include/linux/seqlock.h raw_seqcount_try_begin(), v6.13
export function raw_seqcount_try_begin(s: number, start: SeqRef): boolean {
  point('raw_seqcount_try_begin');
  check_kernel_pointer(s, false);
  start.seq = Atomics.load(mem.i32, s);
  return (start.seq & 1) === 0;
}

// --- latch ----------------------------------------------------------------------------------

// include/linux/seqlock.h raw_write_seqcount_latch(), v6.6
export function raw_write_seqcount_latch(s: number): void {
  point('raw_write_seqcount_latch');
  check_kernel_pointer(s, true);
  // smp_wmb(); sequence++; smp_wmb(): the barriers are implied by SC.
  do_raw_write_seqcount_begin(s);
}

// include/linux/seqlock.h raw_read_seqcount_latch(), v6.6: never waits, the parity picks the copy.
export function raw_read_seqcount_latch(s: number): number {
  point('raw_read_seqcount_latch');
  check_kernel_pointer(s, false);
  return Atomics.load(mem.i32, s);
}

// include/linux/seqlock.h read_seqcount_latch_retry(), v6.6
export function read_seqcount_latch_retry(s: number, start: number): boolean {
  point('read_seqcount_latch_retry');
  check_kernel_pointer(s, false);
  return do___read_seqcount_retry(s, start);
}

// --- seqlock_t ------------------------------------------------------------------------------

const sl_seq = (sl: number): number => sl + SEQLOCK.seqcount;
const sl_lock = (sl: number): number => sl + SEQLOCK.lock;

// include/linux/seqlock.h seqlock_init(), v6.6
export function seqlock_init(sl: number): void {
  seqcount_init(sl_seq(sl));
  spin_lock_init(sl_lock(sl));
}

// include/linux/seqlock.h write_seqlock(), v6.6
export function write_seqlock(sl: number): void {
  point('write_seqlock');
  check_kernel_pointer(sl, true);
  spin_lock(sl_lock(sl));
  do_raw_write_seqcount_begin(sl_seq(sl));
}

// include/linux/seqlock.h write_sequnlock(), v6.6
export function write_sequnlock(sl: number): void {
  point('write_sequnlock');
  check_kernel_pointer(sl, true);
  do_raw_write_seqcount_end(sl_seq(sl));
  spin_unlock(sl_lock(sl));
}

// include/linux/seqlock.h read_seqbegin(), v6.6
export function read_seqbegin(sl: number): number {
  point('read_seqbegin');
  check_kernel_pointer(sl, false);
  return __read_seqcount_begin(sl_seq(sl));
}

// include/linux/seqlock.h read_seqretry(), v6.6
export function read_seqretry(sl: number, start: number): boolean {
  point('read_seqretry');
  check_kernel_pointer(sl, false);
  return do___read_seqcount_retry(sl_seq(sl), start);
}

// include/linux/seqlock.h read_seqlock_excl(), v6.6: a locking reader; `sequence` is untouched,
// so lockless readers are not disturbed.
export function read_seqlock_excl(sl: number): void {
  point('read_seqlock_excl');
  check_kernel_pointer(sl, true);
  spin_lock(sl_lock(sl));
}

// include/linux/seqlock.h read_sequnlock_excl(), v6.6
export function read_sequnlock_excl(sl: number): void {
  point('read_sequnlock_excl');
  check_kernel_pointer(sl, true);
  spin_unlock(sl_lock(sl));
}

// include/linux/seqlock.h read_seqbegin_or_lock(), v6.6: an even *seq makes a lockless reader
// (and stores the sequence it started from), an odd *seq a locking one.
export function read_seqbegin_or_lock(sl: number, seq: SeqRef): void {
  point('read_seqbegin_or_lock');
  check_kernel_pointer(sl, false);
  if ((seq.seq & 1) === 0) seq.seq = __read_seqcount_begin(sl_seq(sl));
  else spin_lock(sl_lock(sl));
}

// include/linux/seqlock.h need_seqretry(), v6.6
export function need_seqretry(sl: number, seq: number): boolean {
  point('need_seqretry');
  if (seq & 1) return false; // a locking pass never needs a retry (and reads nothing)
  check_kernel_pointer(sl, false);
  return do___read_seqcount_retry(sl_seq(sl), seq);
}

// include/linux/seqlock.h done_seqretry(), v6.6
export function done_seqretry(sl: number, seq: number): void {
  point('done_seqretry');
  if (seq & 1) spin_unlock(sl_lock(sl));
}
