// kernel/locking/rwsem.c, v6.6 algorithm (BITS_PER_LONG = 32): readers add their bias first and
// back out in the slow path; writers only CAS from 0; waiters queue FIFO on sem->wait_list and sleep
// on their own task state word; handoff after RWSEM_WAIT_TIMEOUT; reader lock stealing. The public
// entry points (rwsem.ts) reach these through rwsemOps (rwsem_ops.ts) when the era runs v6.6, or
// v6.1, which differs in one function (rwsem_v6_1.ts). Preemption is not disabled around the
// count and owner updates as v6.3 does (3f5245538a19): a CPU here is only preempted at points.

import * as cpuContext from '../../cpu/context.js';
import { point } from '../../cpu/context.js';
import * as arena from '../../shm/arena.js';
import { WARN_ON_ONCE } from '../panic.js';
import * as sched from '../sched.js';
import { get_task_struct, schedule, set_current_state, signal_pending_state, wake_up_q } from '../sched.js';
import * as taskStruct from '../task_struct.js';
import { TASK, TASK_RUNNING } from '../task_struct.js';
import { jiffies, time_after } from '../time.js';
import { lockevent_inc } from './lock_events.js';
import { rwsemWaitTimeout } from './rwsem_config.js';
import type { RwsemOps } from './rwsem_ops.js';
import {
  cnt,
  own,
  RWSEM_WAKE_ANY,
  RWSEM_WAKE_READ_OWNED,
  RWSEM_WAKE_READERS,
  rwsem_set_owner,
} from './rwsem_owner.js';
import {
  OWNER_NULL,
  rwsem_can_spin_on_owner,
  rwsem_optimistic_spin,
  rwsem_set_nonspinnable,
  rwsem_spin_on_owner,
} from './rwsem_spin.js';
import {
  EINTR,
  MAX_READERS_WAKEUP,
  RWSEM,
  RWSEM_FLAG_HANDOFF,
  RWSEM_FLAG_WAITERS,
  RWSEM_LOCK_MASK,
  RWSEM_NONSPINNABLE,
  RWSEM_READ_FAILED_MASK,
  RWSEM_READER_BIAS,
  RWSEM_READER_MASK,
  RWSEM_READER_OWNED,
  RWSEM_READER_SHIFT,
  RWSEM_WAIT_TIMEOUT,
  RWSEM_WAITING_FOR_READ,
  RWSEM_WAITING_FOR_WRITE,
  RWSEM_WRITER_LOCKED,
  RWSEM_WRITER_MASK,
} from './rwsem_types.js';
import {
  list_del,
  list_empty,
  rwsem_add_waiter,
  rwsem_first_waiter,
  wait_list_init,
} from './rwsem_wait_list.js';
import { spin_lock, spin_lock_init, spin_unlock } from './spinlock.js';

// Hot imports as module constants: TurboFan folds a module `const` to the value it held when it
// compiled, so a call through one needs no Cell load, hole check and call-target check as an
// imported binding does (a down_read+up_read pair: about 5 ns of 40, scripts/bench-locks.mjs).
const { atomicPoint } = cpuContext;
const { mem } = arena;
const { get_current } = sched;
const { TASK_KILLABLE, TASK_UNINTERRUPTIBLE } = taskStruct;

// kernel/locking/rwsem.c __init_rwsem(), v6.6 (lockdep's part is in init_rwsem)
function __init_rwsem(sem: number): void {
  const i32 = mem.i32;
  Atomics.store(i32, cnt(sem), 0);
  Atomics.store(i32, own(sem), 0);
  Atomics.store(i32, sem + RWSEM.osq, 0);
  spin_lock_init(sem + RWSEM.wait_lock, '&sem->wait_lock');
  wait_list_init(sem);
}

function __rwsem_set_reader_owned(sem: number, owner: number): void {
  const keep = Atomics.load(mem.i32, own(sem)) & RWSEM_NONSPINNABLE;
  Atomics.store(mem.i32, own(sem), owner | keep | RWSEM_READER_OWNED);
}

function rwsem_set_reader_owned(sem: number): void {
  __rwsem_set_reader_owned(sem, get_current());
}

function clear_nonspinnable(sem: number): void {
  if (Atomics.load(mem.i32, own(sem)) & RWSEM_NONSPINNABLE)
    Atomics.and(mem.i32, own(sem), ~RWSEM_NONSPINNABLE);
}

function rwsem_del_waiter(sem: number, w: number): boolean {
  list_del(sem, w);
  if (!list_empty(sem)) return true;
  Atomics.and(mem.i32, cnt(sem), ~(RWSEM_FLAG_HANDOFF | RWSEM_FLAG_WAITERS));
  return false;
}

// kernel/locking/rwsem.c rwsem_mark_wake(), v6.6 (caller holds wait_lock)
function rwsem_mark_wake(sem: number, wake_type: number, wake_q: number[]): void {
  const i32 = mem.i32;
  let waiter = rwsem_first_waiter(sem);
  let oldcount = 0;
  let adjustment = 0;
  let woken = 0;
  if (i32[waiter + TASK.w_type] === RWSEM_WAITING_FOR_WRITE) {
    if (wake_type === RWSEM_WAKE_ANY) wake_q.push(get_task_struct(Atomics.load(i32, waiter + TASK.w_task)));
    return;
  }
  if (Atomics.load(i32, cnt(sem)) < 0) return;
  if (wake_type !== RWSEM_WAKE_READ_OWNED) {
    adjustment = RWSEM_READER_BIAS;
    oldcount = Atomics.add(i32, cnt(sem), adjustment);
    if (oldcount & RWSEM_WRITER_MASK) {
      // A writer stole the lock: after waiting too long, ask for a handoff.
      if (time_after(jiffies(), i32[waiter + TASK.w_timeout]!)) {
        if (!(oldcount & RWSEM_FLAG_HANDOFF)) adjustment -= RWSEM_FLAG_HANDOFF;
        i32[waiter + TASK.w_handoff_set] = 1;
      }
      Atomics.sub(i32, cnt(sem), adjustment);
      return;
    }
    __rwsem_set_reader_owned(sem, Atomics.load(i32, waiter + TASK.w_task));
  }
  // Grant up to MAX_READERS_WAKEUP readers from anywhere in the queue, skipping writers.
  const wlist: number[] = [];
  for (waiter = rwsem_first_waiter(sem); waiter !== 0; ) {
    const next = i32[waiter + TASK.w_next]!;
    if (i32[waiter + TASK.w_type] !== RWSEM_WAITING_FOR_WRITE) {
      woken++;
      list_del(sem, waiter);
      wlist.push(waiter);
      if (woken >= MAX_READERS_WAKEUP) break;
    }
    waiter = next;
  }
  adjustment = woken * RWSEM_READER_BIAS - adjustment;
  oldcount = Atomics.load(i32, cnt(sem));
  if (list_empty(sem)) {
    adjustment -= RWSEM_FLAG_WAITERS;
    if (oldcount & RWSEM_FLAG_HANDOFF) adjustment -= RWSEM_FLAG_HANDOFF;
  } else if (woken && oldcount & RWSEM_FLAG_HANDOFF) {
    adjustment -= RWSEM_FLAG_HANDOFF;
  }
  if (adjustment) Atomics.add(i32, cnt(sem), adjustment);
  // Second pass: every bias is in place before any waiter sees its grant.
  for (const w of wlist) {
    const tsk = Atomics.load(i32, w + TASK.w_task);
    get_task_struct(tsk);
    Atomics.store(i32, w + TASK.w_task, 0);
    wake_q.push(tsk);
  }
}

function rwsem_cond_wake_waiter(sem: number, count: number, wake_q: number[]): void {
  if (count & RWSEM_WRITER_MASK) return;
  let wake_type = RWSEM_WAKE_READERS;
  if (!(count & RWSEM_READER_MASK)) {
    wake_type = RWSEM_WAKE_ANY;
    clear_nonspinnable(sem);
  }
  rwsem_mark_wake(sem, wake_type, wake_q);
}

/** rwsem_del_wake_waiter(): entered with wait_lock held, returns with it dropped. */
function rwsem_del_wake_waiter(sem: number, w: number, wake_q: number[]): void {
  const first = rwsem_first_waiter(sem) === w;
  if (rwsem_del_waiter(sem, w) && first) rwsem_mark_wake(sem, RWSEM_WAKE_ANY, wake_q);
  spin_unlock(sem + RWSEM.wait_lock);
  wake_up_q(wake_q);
}

/** The one step of rwsem.c that differs between the v6.1 and v6.6 releases (rwsem_v6_1.ts). */
export type TryWriteLock = (sem: number, waiter: number) => boolean;

/** Where rwsem_try_write_lock() changed between v6.1 and v6.6: the handoff_set marks. */
export interface HandoffMarks {
  /** With HANDOFF set in the count: may `waiter` go on trying (and is anyone marked now)? */
  onHandoffBit(waiter: number, first: number): boolean;
  /** Whom this try marks handoff_set after it set the bit. */
  marks(waiter: number, first: number): number;
}

/** rwsem_try_write_lock()'s cmpxchg loop, the era's handoff marks plugged in. */
export function tryWriteLockWith(sem: number, waiter: number, h: HandoffMarks): boolean {
  const i32 = mem.i32;
  const first = rwsem_first_waiter(sem);
  let count = Atomics.load(i32, cnt(sem));
  let next: number;
  for (;;) {
    const has_handoff = (count & RWSEM_FLAG_HANDOFF) !== 0;
    if (has_handoff && !h.onHandoffBit(waiter, first)) return false;
    next = count;
    if (count & RWSEM_LOCK_MASK) {
      if (has_handoff || !time_after(jiffies(), i32[waiter + TASK.w_timeout]!)) return false;
      next |= RWSEM_FLAG_HANDOFF;
    } else {
      next = (next | RWSEM_WRITER_LOCKED) & ~RWSEM_FLAG_HANDOFF;
      if (first === waiter && i32[waiter + TASK.w_next] === 0) next &= ~RWSEM_FLAG_WAITERS;
    }
    atomicPoint('rwsem_try_write_lock:cmpxchg'); // the count may change under the computed `next`
    const seen = Atomics.compareExchange(i32, cnt(sem), count, next);
    if (seen === count) break;
    count = seen;
  }
  if (next & RWSEM_FLAG_HANDOFF) {
    i32[h.marks(waiter, first) + TASK.w_handoff_set] = 1;
    lockevent_inc('rwsem_wlock_handoff');
    return false;
  }
  list_del(sem, waiter);
  rwsem_set_owner(sem);
  return true;
}

const HANDOFF_MARKS_V6_6: HandoffMarks = {
  // A handoff the first waiter owns is honoured by everyone else (6eebd5fb2083, v6.0).
  onHandoffBit: (waiter, first) => !(mem.i32[first + TASK.w_handoff_set] && waiter !== first),
  marks: (_waiter, first) => first,
};

// kernel/locking/rwsem.c rwsem_try_write_lock(), v6.6 (caller holds wait_lock): only the first
// waiter is marked handoff_set, so only it spins in the slow path (b613c7f31476, v6.2).
export function rwsem_try_write_lock(sem: number, waiter: number): boolean {
  return tryWriteLockWith(sem, waiter, HANDOFF_MARKS_V6_6);
}

function initWaiter(w: number, type: number): void {
  const i32 = mem.i32;
  Atomics.store(i32, w + TASK.w_task, w);
  i32[w + TASK.w_type] = type;
  i32[w + TASK.w_timeout] = (jiffies() + rwsemWaitTimeout(RWSEM_WAIT_TIMEOUT)) | 0;
  i32[w + TASK.w_handoff_set] = 0;
}

// kernel/locking/rwsem.c rwsem_down_read_slowpath(), v6.6. Returns 0 or -EINTR.
function rwsem_down_read_slowpath(sem: number, count: number, state: number): number {
  const i32 = mem.i32;
  const wake_q: number[] = [];
  let adjustment = -RWSEM_READER_BIAS;
  const rcnt = count >> RWSEM_READER_SHIFT;
  const me = get_current();
  point('rwsem_down_read_slowpath');
  const stealBlocked =
    Atomics.load(i32, own(sem)) & RWSEM_READER_OWNED && rcnt > 1 && !(count & RWSEM_WRITER_LOCKED);
  if (!stealBlocked && !(count & (RWSEM_WRITER_LOCKED | RWSEM_FLAG_HANDOFF))) {
    // Reader optimistic lock stealing: our bias is already in the count.
    rwsem_set_reader_owned(sem);
    lockevent_inc('rwsem_rlock_steal');
    if (rcnt === 1 && count & RWSEM_FLAG_WAITERS) {
      spin_lock(sem + RWSEM.wait_lock);
      if (!list_empty(sem)) rwsem_mark_wake(sem, RWSEM_WAKE_READ_OWNED, wake_q);
      spin_unlock(sem + RWSEM.wait_lock);
      wake_up_q(wake_q);
    }
    return 0;
  }
  initWaiter(me, RWSEM_WAITING_FOR_READ);
  spin_lock(sem + RWSEM.wait_lock);
  if (list_empty(sem)) {
    if (!(Atomics.load(i32, cnt(sem)) & RWSEM_WRITER_MASK)) {
      spin_unlock(sem + RWSEM.wait_lock);
      rwsem_set_reader_owned(sem);
      return 0;
    }
    adjustment += RWSEM_FLAG_WAITERS;
  }
  rwsem_add_waiter(sem, me);
  // An up_write can land here, queued but not yet counted: why rwsem_cond_wake_waiter() exists.
  atomicPoint('rwsem_down_read_slowpath:queued');
  count = (Atomics.add(i32, cnt(sem), adjustment) + adjustment) | 0;
  rwsem_cond_wake_waiter(sem, count, wake_q);
  spin_unlock(sem + RWSEM.wait_lock);
  wake_up_q(wake_q);
  for (;;) {
    set_current_state(state);
    if (Atomics.load(i32, me + TASK.w_task) === 0) break;
    if (signal_pending_state(state, me)) {
      spin_lock(sem + RWSEM.wait_lock);
      if (Atomics.load(i32, me + TASK.w_task) !== 0) {
        rwsem_del_wake_waiter(sem, me, wake_q);
        set_current_state(TASK_RUNNING);
        return -EINTR;
      }
      spin_unlock(sem + RWSEM.wait_lock);
      break;
    }
    schedule();
  }
  set_current_state(TASK_RUNNING);
  return 0;
}

// kernel/locking/rwsem.c rwsem_down_write_slowpath(), v6.1 to v6.6
function rwsem_down_write_slowpath(sem: number, state: number, try_lock: TryWriteLock): number {
  const wake_q: number[] = [];
  const me = get_current();
  point('rwsem_down_write_slowpath');
  // Do optimistic spinning and steal the lock if possible (CONFIG_RWSEM_SPIN_ON_OWNER).
  if (rwsem_can_spin_on_owner(sem) && rwsem_optimistic_spin(sem)) return 0;
  initWaiter(me, RWSEM_WAITING_FOR_WRITE);
  spin_lock(sem + RWSEM.wait_lock);
  rwsem_add_waiter(sem, me);
  atomicPoint('rwsem_down_write_slowpath:queued');
  if (rwsem_first_waiter(sem) !== me) {
    rwsem_cond_wake_waiter(sem, Atomics.load(mem.i32, cnt(sem)), wake_q);
    if (wake_q.length) {
      spin_unlock(sem + RWSEM.wait_lock);
      wake_up_q(wake_q);
      spin_lock(sem + RWSEM.wait_lock);
    }
  } else {
    Atomics.or(mem.i32, cnt(sem), RWSEM_FLAG_WAITERS);
  }
  set_current_state(state);
  for (;;) {
    if (try_lock(sem, me)) break;
    spin_unlock(sem + RWSEM.wait_lock);
    if (signal_pending_state(state, me)) {
      set_current_state(TASK_RUNNING);
      spin_lock(sem + RWSEM.wait_lock);
      rwsem_del_wake_waiter(sem, me, wake_q);
      return -EINTR;
    }
    // After setting the handoff bit, spin on an on-CPU writer owner instead of sleeping: if it
    // just released the lock (OWNER_NULL), retry at once.
    if (!(mem.i32[me + TASK.w_handoff_set] && rwsem_spin_on_owner(sem) === OWNER_NULL)) {
      schedule();
      set_current_state(state);
    }
    spin_lock(sem + RWSEM.wait_lock);
  }
  set_current_state(TASK_RUNNING);
  spin_unlock(sem + RWSEM.wait_lock);
  return 0;
}

// The fast paths' words and bits as literals (an imported constant costs V8 a cell load and a
// hole check on every lock operation); checked against rwsem_types.ts once, here.
const FAST_READER_BIAS = 256; // RWSEM_READER_BIAS
const FAST_READ_FAILED = 0x80000007 | 0; // RWSEM_READ_FAILED_MASK
const FAST_WAKE_MASK = 0xffffff03 | 0; // RWSEM_LOCK_MASK | RWSEM_FLAG_WAITERS
const FAST_OWNER_KEEP = 2; // RWSEM_NONSPINNABLE
const FAST_READER_OWNED = 1; // RWSEM_READER_OWNED
if (
  FAST_READER_BIAS !== RWSEM_READER_BIAS ||
  FAST_READ_FAILED !== RWSEM_READ_FAILED_MASK ||
  FAST_WAKE_MASK !== (RWSEM_LOCK_MASK | RWSEM_FLAG_WAITERS) ||
  FAST_OWNER_KEEP !== RWSEM_NONSPINNABLE ||
  FAST_READER_OWNED !== RWSEM_READER_OWNED ||
  RWSEM.count !== 0 ||
  RWSEM.owner !== 1
)
  throw new Error('rwsem_v6_6.ts: the fast-path literals disagree with rwsem_types.ts');

// kernel/locking/rwsem.c rwsem_read_trylock(), v6.6: the bias goes in first, unconditionally.
// Returns the kernel's *cntp, the count after the add: the lock is taken when it has no
// RWSEM_READ_FAILED_MASK bit (the kernel's bool return, which the caller recomputes).
function rwsem_read_trylock(sem: number): number {
  const i32 = mem.i32;
  const count = (Atomics.add(i32, sem, FAST_READER_BIAS) + FAST_READER_BIAS) | 0;
  if (count & FAST_READ_FAILED) {
    if (count < 0) rwsem_read_trylock_overflow(sem);
    return count;
  }
  // rwsem_set_reader_owned(): current, keeping the nonspinnable bit
  const keep = Atomics.load(i32, sem + 1) & FAST_OWNER_KEEP;
  Atomics.store(i32, sem + 1, get_current() | keep | FAST_READER_OWNED);
  return count;
}

// kernel/locking/rwsem.c rwsem_read_trylock(), v6.6: the reader count overflowed into the sign
// bit (RWSEM_FLAG_READFAIL, part of the failed mask). Out of line: the fast path stays small.
function rwsem_read_trylock_overflow(sem: number): void {
  WARN_ON_ONCE(true, 'kernel/locking/rwsem.c:rwsem_read_trylock');
  rwsem_set_nonspinnable(sem);
}

// kernel/locking/rwsem.c rwsem_write_trylock(), v6.6
function rwsem_write_trylock(sem: number): boolean {
  const i32 = mem.i32;
  if (Atomics.compareExchange(i32, sem, 0, 1 /* RWSEM_WRITER_LOCKED */) !== 0) return false;
  Atomics.store(i32, sem + 1, get_current()); // rwsem_set_owner()
  return true;
}

// kernel/locking/rwsem.c __down_read_common(), v6.6
function __down_read_common(sem: number, state: number): number {
  const count = rwsem_read_trylock(sem);
  if ((count & FAST_READ_FAILED) === 0) return 0;
  return rwsem_down_read_slowpath(sem, count, state);
}

// kernel/locking/rwsem.c __down_write_common(), v6.6
function __down_write_common(sem: number, state: number, try_lock: TryWriteLock): number {
  if (rwsem_write_trylock(sem)) return 0;
  return rwsem_down_write_slowpath(sem, state, try_lock);
}

// kernel/locking/rwsem.c __down_read(), __down_read_killable(), v6.6: the lock functions
// LOCK_CONTENDED() calls (the write side is in rwsemTree()).
function __down_read(sem: number): void {
  __down_read_common(sem, TASK_UNINTERRUPTIBLE);
}

function __down_read_killable(sem: number): number {
  return __down_read_common(sem, TASK_KILLABLE);
}

// kernel/locking/rwsem.c __down_read_trylock(), v6.6: never leaves a stray bias.
function __down_read_trylock(sem: number): boolean {
  const i32 = mem.i32;
  let tmp = Atomics.load(i32, cnt(sem));
  while (!(tmp & RWSEM_READ_FAILED_MASK)) {
    const seen = Atomics.compareExchange(i32, cnt(sem), tmp, (tmp + RWSEM_READER_BIAS) | 0);
    if (seen === tmp) {
      rwsem_set_reader_owned(sem);
      return true;
    }
    tmp = seen;
  }
  return false;
}

// kernel/locking/rwsem.c rwsem_wake(): wake after the count is released, so the unlocker still
// touches the rwsem after another task may already own (and free) it.
function rwsem_wake(sem: number): void {
  const wake_q: number[] = [];
  spin_lock(sem + RWSEM.wait_lock);
  if (!list_empty(sem)) rwsem_mark_wake(sem, RWSEM_WAKE_ANY, wake_q);
  spin_unlock(sem + RWSEM.wait_lock);
  wake_up_q(wake_q);
}

// kernel/locking/rwsem.c __up_read(), v6.6
function __up_read(sem: number): void {
  const tmp = (Atomics.sub(mem.i32, sem, FAST_READER_BIAS) - FAST_READER_BIAS) | 0;
  if ((tmp & FAST_WAKE_MASK) === 2 /* RWSEM_FLAG_WAITERS */) __up_read_wake(sem);
}

// kernel/locking/rwsem.c __up_read(), v6.6: the last reader left with waiters queued.
function __up_read_wake(sem: number): void {
  // Released, not done: a writer may take the lock and free the memory holding it before the
  // wake-up below touches it (kernel-locking.md §1.14; per-VMA locks, Jann Horn, Jan 2023).
  atomicPoint('__up_read:released');
  clear_nonspinnable(sem);
  rwsem_wake(sem);
}

// kernel/locking/rwsem.c __up_write(), v6.6
function __up_write(sem: number): void {
  const i32 = mem.i32;
  Atomics.store(i32, sem + 1, 0); // rwsem_clear_owner()
  atomicPoint('__up_write:owner_cleared'); // no owner, still write-locked: spinners see this
  const tmp = Atomics.sub(i32, sem, 1 /* RWSEM_WRITER_LOCKED */);
  if (tmp & 2 /* RWSEM_FLAG_WAITERS */) rwsem_wake(sem);
}

// kernel/locking/rwsem.c __downgrade_write(), v6.6
function __downgrade_write(sem: number): void {
  const tmp = Atomics.add(mem.i32, cnt(sem), -RWSEM_WRITER_LOCKED + RWSEM_READER_BIAS);
  rwsem_set_reader_owned(sem);
  if (tmp & RWSEM_FLAG_WAITERS) rwsem_downgrade_wake(sem);
}

// kernel/locking/rwsem.c rwsem_downgrade_wake(), v6.6
function rwsem_downgrade_wake(sem: number): void {
  const wake_q: number[] = [];
  spin_lock(sem + RWSEM.wait_lock);
  if (!list_empty(sem)) rwsem_mark_wake(sem, RWSEM_WAKE_READ_OWNED, wake_q);
  spin_unlock(sem + RWSEM.wait_lock);
  wake_up_q(wake_q);
}

/** The post-v5.3 rw_semaphore, with the era's rwsem_try_write_lock(). */
export function rwsemTree(name: string, try_lock: TryWriteLock): RwsemOps {
  return {
    name,
    source: 'kernel/locking/rwsem.c',
    CONFIG_RWSEM_SPIN_ON_OWNER: false,
    __init_rwsem,
    __down_read,
    __down_read_killable,
    __down_read_trylock,
    // kernel/locking/rwsem.c __down_write(), __down_write_killable(), v6.1 to v6.6
    __down_write: (sem) => void __down_write_common(sem, TASK_UNINTERRUPTIBLE, try_lock),
    __down_write_killable: (sem) => __down_write_common(sem, TASK_KILLABLE, try_lock),
    __down_write_trylock: rwsem_write_trylock,
    __up_read,
    __up_write,
    __downgrade_write,
    rwsem_reader_count: (sem) => Atomics.load(mem.i32, cnt(sem)) >> RWSEM_READER_SHIFT,
  };
}

/** The v6.6 rw_semaphore (v5.3's rework as of v6.6). */
export const rwsem_v6_6: RwsemOps = rwsemTree('rwsem.c (v6.6)', rwsem_try_write_lock);
