// The rw_semaphore's public entry points (include/linux/rwsem.h, kernel/locking/rwsem.c wrappers):
// might_sleep(), the preemption point, lockdep's rwsem_acquire*() and LOCK_CONTENDED() (reads are
// non-recursive shared acquisitions), --trace slices, then the era's algorithm installed by
// rwsem_ops.ts (the v4.14 xadd rwsem or v6.6's). With lockdep, lock_stat and --trace off and no
// preempt-disabled section open on the thread (might_sleep() has nothing to report), an entry
// point tests the thread's lock gate (cpu/point_gate.ts) and lockdep's switch, makes its quiet
// preemption point (a countdown) and the algorithm's Atomics calls, and nothing else; the debug
// work lives in separate functions, so the fast path stays small enough for TurboFan to inline
// whole into its caller. Also the debug views the reports read (owner, waiters), which both
// algorithms encode alike.
import * as cpuContext from '../../cpu/context.js';
import * as pointGate from '../../cpu/point_gate.js';
import { lockGate } from '../../cpu/point_gate.js';
import {
  LockKind,
  traceBegin,
  traceEnd,
  traceFn,
  traceLockAcquired,
  traceLockReleased,
} from '../../cpu/trace_buffer.js';
import { mem } from '../../shm/arena.js';
import * as panic from '../panic.js';
import { might_sleep } from '../sched.js';
import {
  LOCK_CONTENDED,
  LOCK_CONTENDED_RETURN,
  lock_downgrade,
  lock_release,
  rwsem_acquire,
  rwsem_acquire_read,
} from './lockdep.js';
import { LD_WAIT_SLEEP, lockdep_init_map } from './lockdep_classes.js';
import * as lockdepHeld from './lockdep_held.js';
import { initSiteName } from './lockdep_ip.js';
import * as lockdepState from './lockdep_state.js';
import type { RwsemOps } from './rwsem_ops.js';
import { EINTR, RWSEM, RWSEM_OWNER_FLAGS_MASK, RWSEM_READER_OWNED } from './rwsem_types.js';

const COUNT = RWSEM.count;
const OWNER = RWSEM.owner;

/** lockdep, lock_stat or --trace on for this thread: the entry points take their debug halves. */
function lockDebugOrTrace(): boolean {
  return ((lockGate & GATE_SPIN_MASK) | lockDebugFlags()) !== 0;
}

/** An acquisition in its debug half: with lockdep or lock_stat on, releases check held locks from now on. */
function noteTracked(): void {
  if (lockDebugFlags() !== 0) gateTracked();
}

// The fast paths' tests are written out in each entry point rather than called: every inlined
// function's bytecode counts against TurboFan's inlining budget of the caller.
//   ((lockGate >> 1) | lockDebugFlags()) !== 0: a lock that may sleep has more to do than its
//     algorithm (debugging, or might_sleep() with a preempt-disabled section open on this thread);
//   ((lockGate & GATE_RELEASE_MASK) | lockDebugFlags()) !== 0: a release has more to do
//     (debugging, or locks were taken with lockdep on on this thread: current may hold some that
//     lockdep tracked; release_debug() asks).

import { rwsem_v6_6 } from './rwsem_v6_6.js';

// Hot imports as module constants: TurboFan folds a module `const` to the value it held when it
// compiled, so a call through one needs no Cell load, hole check and call-target check as an
// imported binding does (a down_read+up_read pair: about 5 ns of 40, scripts/bench-locks.mjs).
const { point } = cpuContext;
const { check_kernel_pointer } = panic;
const { currentHoldsTrackedLocks } = lockdepHeld;
const { lockDebugFlags } = lockdepState;
const { GATE_RELEASE_MASK, GATE_SPIN_MASK, gateTracked } = pointGate;

export * from './rwsem_types.js';
export { rwsem_waiters } from './rwsem_wait_list.js';

// The installed algorithm's halves, which bindRwsemOps() (from installRwsem()) replaces: a
// constant object whose fields change only when another era's rwsem is installed. TurboFan folds
// a load of a field never reassigned since (V8's field constness), so the v6.6 default costs the
// lock paths no load and no call-target check; a module `let` per half cost both.
const algo = {
  __init_rwsem: rwsem_v6_6.__init_rwsem,
  __down_read: rwsem_v6_6.__down_read,
  __down_read_killable: rwsem_v6_6.__down_read_killable,
  __down_read_trylock: rwsem_v6_6.__down_read_trylock,
  __down_write: rwsem_v6_6.__down_write,
  __down_write_killable: rwsem_v6_6.__down_write_killable,
  __down_write_trylock: rwsem_v6_6.__down_write_trylock,
  __up_read: rwsem_v6_6.__up_read,
  __up_write: rwsem_v6_6.__up_write,
  __downgrade_write: rwsem_v6_6.__downgrade_write,
  rwsem_reader_count: rwsem_v6_6.rwsem_reader_count,
};
type AlgoKey = keyof typeof algo;

export function bindRwsemOps(ops: RwsemOps): void {
  for (const k of Object.keys(algo) as AlgoKey[]) {
    // Only a changed half is stored: a field that keeps its first value stays constant for V8.
    if (algo[k] !== ops[k]) (algo as Record<AlgoKey, unknown>)[k] = ops[k];
  }
}

// --trace: the sleeping lock functions are function slices; a hold is a lock slice from the
// acquisition to the release (cpu/trace_buffer.ts).
const T = {
  down_read: traceFn('down_read'),
  down_read_killable: traceFn('down_read_killable'),
  down_write: traceFn('down_write'),
  down_write_killable: traceFn('down_write_killable'),
};

// include/linux/rwsem.h init_rwsem() + kernel/locking/rwsem.c __init_rwsem(): `name` is the lock
// class ('&mm->mmap_sem'); without it the class is keyed by the init site.
export function init_rwsem(sem: number, name?: string): void {
  algo.__init_rwsem(sem);
  if (lockDebugFlags() === 0) return;
  const key = name ?? initSiteName('init_rwsem');
  if (key) lockdep_init_map(sem, key, LD_WAIT_SLEEP);
}

// include/linux/rwsem.h rwsem_is_locked(): any count but RWSEM_UNLOCKED_VALUE (0 in both eras)
export function rwsem_is_locked(sem: number): boolean {
  return Atomics.load(mem.i32, sem + COUNT) !== 0;
}

/** The owner task: a writer, or (v6.6) the last reader; 0 when v4.14's readers own it. */
export function rwsem_owner(sem: number): number {
  return Atomics.load(mem.i32, sem + OWNER) & ~RWSEM_OWNER_FLAGS_MASK;
}

/** Bit 0 of the owner word: v6.6's RWSEM_READER_OWNED flag, v4.14's owner == (task *)1. */
export function is_rwsem_reader_owned(sem: number): boolean {
  return (Atomics.load(mem.i32, sem + OWNER) & RWSEM_READER_OWNED) !== 0;
}

/** Readers counted in the count word, in the installed algorithm's encoding (for the reports). */
export function rwsem_reader_count(sem: number): number {
  return algo.rwsem_reader_count(sem);
}

// kernel/locking/rwsem.c down_read(), v6.6 (both eras' wrappers)
export function down_read(sem: number): void {
  if (((lockGate >> 1) | lockDebugFlags()) !== 0) {
    down_read_debug(sem);
    return;
  }
  point('down_read');
  check_kernel_pointer(sem, true);
  algo.__down_read(sem);
}

// kernel/locking/rwsem.c down_read(), v6.6, with lockdep, lock_stat or --trace on, or preemption
// off; down_read_nested() too (`subclass`, its own name as `api`, its might_sleep() `site`).
function down_read_debug(
  sem: number,
  subclass = 0,
  api = 'down_read',
  site = 'kernel/locking/rwsem.c:down_read',
): void {
  noteTracked();
  traceBegin(T.down_read);
  try {
    might_sleep(site);
    point('down_read');
    check_kernel_pointer(sem, true);
    if (lockDebugFlags() !== 0) {
      rwsem_acquire_read(sem, 0, api, subclass);
      LOCK_CONTENDED(sem, api, algo.__down_read_trylock, algo.__down_read);
    } else {
      algo.__down_read(sem);
    }
  } finally {
    traceEnd(T.down_read);
  }
  traceLockAcquired(sem, LockKind.Read);
}

// kernel/locking/rwsem.c down_read_nested(), v6.6 (CONFIG_DEBUG_LOCK_ALLOC): down_read() of a lock
// whose class this task may already hold, `subclass` telling lockdep the nesting (without lockdep
// it is down_read()). The point keeps down_read()'s name, so schedules and jitter windows see one
// kind of read acquisition.
export function down_read_nested(sem: number, subclass: number): void {
  if (((lockGate >> 1) | lockDebugFlags()) !== 0) {
    down_read_debug(sem, subclass, 'down_read_nested', 'kernel/locking/rwsem.c:down_read_nested');
    return;
  }
  point('down_read');
  check_kernel_pointer(sem, true);
  algo.__down_read(sem);
}

// kernel/locking/rwsem.c down_read_killable(), v6.6 (both eras' wrappers)
export function down_read_killable(sem: number): number {
  if (((lockGate >> 1) | lockDebugFlags()) !== 0) return down_read_killable_debug(sem);
  point('down_read');
  check_kernel_pointer(sem, true);
  return algo.__down_read_killable(sem);
}

// kernel/locking/rwsem.c down_read_killable(), v6.6, with lockdep, lock_stat or --trace on, or preemption off
function down_read_killable_debug(sem: number): number {
  noteTracked();
  traceBegin(T.down_read_killable);
  let ret: number;
  try {
    might_sleep('kernel/locking/rwsem.c:down_read_killable');
    point('down_read');
    check_kernel_pointer(sem, true);
    if (lockDebugFlags() !== 0) {
      rwsem_acquire_read(sem, 0, 'down_read_killable');
      ret = LOCK_CONTENDED_RETURN(
        sem,
        'down_read_killable',
        algo.__down_read_trylock,
        algo.__down_read_killable,
      )
        ? -EINTR
        : 0;
      if (ret) lock_release(sem);
    } else {
      ret = algo.__down_read_killable(sem);
    }
  } finally {
    traceEnd(T.down_read_killable);
  }
  if (ret === 0) traceLockAcquired(sem, LockKind.Read);
  return ret;
}

// kernel/locking/rwsem.c down_read_trylock(), v6.6 (both eras' wrappers)
export function down_read_trylock(sem: number): boolean {
  point('down_read_trylock');
  check_kernel_pointer(sem, true);
  if (!algo.__down_read_trylock(sem)) return false;
  if (lockDebugOrTrace()) {
    noteTracked();
    if (lockDebugFlags() !== 0) rwsem_acquire_read(sem, 1, 'down_read_trylock');
    traceLockAcquired(sem, LockKind.Read);
  }
  return true;
}

// kernel/locking/rwsem.c down_write(), v6.6 (both eras' wrappers)
export function down_write(sem: number): void {
  if (((lockGate >> 1) | lockDebugFlags()) !== 0) {
    down_write_debug(sem);
    return;
  }
  point('down_write');
  check_kernel_pointer(sem, true);
  algo.__down_write(sem);
}

// kernel/locking/rwsem.c down_write(), v6.6, with lockdep, lock_stat or --trace on, or preemption
// off; down_write_nested() too (`subclass`, its own name as `api`, its might_sleep() `site`).
function down_write_debug(
  sem: number,
  subclass = 0,
  api = 'down_write',
  site = 'kernel/locking/rwsem.c:down_write',
): void {
  noteTracked();
  traceBegin(T.down_write);
  try {
    might_sleep(site);
    point('down_write');
    check_kernel_pointer(sem, true);
    if (lockDebugFlags() !== 0) {
      rwsem_acquire(sem, 0, api, subclass);
      LOCK_CONTENDED(sem, api, algo.__down_write_trylock, algo.__down_write);
    } else {
      algo.__down_write(sem);
    }
  } finally {
    traceEnd(T.down_write);
  }
  traceLockAcquired(sem, LockKind.Write);
}

// kernel/locking/rwsem.c down_write_nested(), v6.6 (CONFIG_DEBUG_LOCK_ALLOC): down_write() of a
// lock whose class this task may already hold (fork's child mmap_lock under the parent's:
// SINGLE_DEPTH_NESTING); without lockdep it is down_write(). The point keeps down_write()'s name.
export function down_write_nested(sem: number, subclass: number): void {
  if (((lockGate >> 1) | lockDebugFlags()) !== 0) {
    down_write_debug(sem, subclass, 'down_write_nested', 'kernel/locking/rwsem.c:down_write_nested');
    return;
  }
  point('down_write');
  check_kernel_pointer(sem, true);
  algo.__down_write(sem);
}

// kernel/locking/rwsem.c down_write_killable(), v6.6 (both eras' wrappers)
export function down_write_killable(sem: number): number {
  if (((lockGate >> 1) | lockDebugFlags()) !== 0) return down_write_killable_debug(sem);
  point('down_write');
  check_kernel_pointer(sem, true);
  return algo.__down_write_killable(sem);
}

// kernel/locking/rwsem.c down_write_killable(), v6.6, with lockdep, lock_stat or --trace on, or preemption off
function down_write_killable_debug(sem: number): number {
  noteTracked();
  traceBegin(T.down_write_killable);
  let ret: number;
  try {
    might_sleep('kernel/locking/rwsem.c:down_write_killable');
    point('down_write');
    check_kernel_pointer(sem, true);
    if (lockDebugFlags() !== 0) {
      rwsem_acquire(sem, 0, 'down_write_killable');
      ret = LOCK_CONTENDED_RETURN(
        sem,
        'down_write_killable',
        algo.__down_write_trylock,
        algo.__down_write_killable,
      )
        ? -EINTR
        : 0;
      if (ret) lock_release(sem);
    } else {
      ret = algo.__down_write_killable(sem);
    }
  } finally {
    traceEnd(T.down_write_killable);
  }
  if (ret === 0) traceLockAcquired(sem, LockKind.Write);
  return ret;
}

// kernel/locking/rwsem.c down_write_trylock(), v6.6 (both eras' wrappers)
export function down_write_trylock(sem: number): boolean {
  point('down_write_trylock');
  check_kernel_pointer(sem, true);
  if (!algo.__down_write_trylock(sem)) return false;
  if (lockDebugOrTrace()) {
    noteTracked();
    if (lockDebugFlags() !== 0) rwsem_acquire(sem, 1, 'down_write_trylock');
    traceLockAcquired(sem, LockKind.Write);
  }
  return true;
}

// kernel/locking/rwsem.c up_read(), v6.6 (both eras' wrappers)
export function up_read(sem: number): void {
  check_kernel_pointer(sem, true);
  // rwsem_release() (and the --trace slice's end): only when this thread has debugging on, or
  // current still holds locks it tracked before debugging was switched off.
  if (((lockGate & GATE_RELEASE_MASK) | lockDebugFlags()) !== 0) release_debug(sem, LockKind.Read);
  algo.__up_read(sem);
  point('up_read');
}

// kernel/locking/rwsem.c up_write(), v6.6 (both eras' wrappers)
export function up_write(sem: number): void {
  check_kernel_pointer(sem, true);
  if (((lockGate & GATE_RELEASE_MASK) | lockDebugFlags()) !== 0) release_debug(sem, LockKind.Write);
  algo.__up_write(sem);
  point('up_write');
}

// kernel/locking/rwsem.c rwsem_release() (lockdep's half of up_read/up_write), v6.6, and --trace
function release_debug(sem: number, kind: LockKind): void {
  traceLockReleased(sem, kind);
  if (currentHoldsTrackedLocks()) lock_release(sem);
}

// kernel/locking/rwsem.c downgrade_write(), v6.6 (both eras' wrappers)
export function downgrade_write(sem: number): void {
  check_kernel_pointer(sem, true);
  traceLockReleased(sem, LockKind.Write);
  traceLockAcquired(sem, LockKind.Read);
  if (currentHoldsTrackedLocks()) lock_downgrade(sem, 'downgrade_write');
  algo.__downgrade_write(sem);
  point('downgrade_write');
}
