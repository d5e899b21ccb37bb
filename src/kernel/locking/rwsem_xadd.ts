// kernel/locking/rwsem-xadd.c with the x86 fast paths of arch/x86/include/asm/rwsem.h (i386: a
// 32-bit count), v4.14 (v4.15's text where v4.15 added down_read_killable()). The count's low half
// counts active lockers (readers, or the one writer), the high half goes negative by
// RWSEM_WAITING_BIAS while anyone waits and once more for an active writer. Readers and writers
// both xadd their bias first; a queued reader is granted only by a waker, and only with the readers
// at the head of the queue (the grant stops at the first writer); a woken writer must win the count
// itself; no handoff, no reader lock stealing. Writers spin on an on-CPU writer owner behind the OSQ
// when CONFIG_RWSEM_SPIN_ON_OWNER is on (x86's default in this era; off by default here, see below).
// Emulator differences: need_resched() is an iteration bound (MAX_SPIN), vcpu_is_preempted() never
// true; the memory model is sequentially consistent, so the reordering fixes of later stable
// releases change nothing here. __rwsem_mark_wake() clears each reader's waiter.task before adding
// the readers' bias, as v4.14 did (fixed upstream in 2019, a9e9bcb45b15): a granted reader that ran
// and left in that window could let a writer in beside the others. No coarse preemption point
// falls in it; --points atomic puts one there (cpu/granularity.ts), and free mode can reach it too.

import { atomicPoint, cpuCtx, point } from '../../cpu/context.js';
import { mem } from '../../shm/arena.js';
import {
  get_current,
  get_task_struct,
  schedule,
  set_current_state,
  signal_pending_state,
  wake_up_q,
} from '../sched.js';
import { TASK, TASK_KILLABLE, TASK_RUNNING, TASK_UNINTERRUPTIBLE } from '../task_struct.js';
import { lockevent_inc } from './lock_events.js';
import { osq_is_locked, osq_lock, osq_lock_init, osq_unlock } from './osq_lock.js';
import { MAX_SPIN, rwsemSpinEnabled } from './rwsem_config.js';
import type { RwsemOps } from './rwsem_ops.js';
import {
  cnt,
  own,
  RWSEM_WAKE_ANY,
  RWSEM_WAKE_READ_OWNED,
  RWSEM_WAKE_READERS,
  rwsem_clear_owner,
  rwsem_set_owner,
} from './rwsem_owner.js';
import {
  EINTR,
  RWSEM,
  RWSEM_ACTIVE_MASK,
  RWSEM_ACTIVE_READ_BIAS,
  RWSEM_ACTIVE_WRITE_BIAS,
  RWSEM_READER_OWNED_V4_14,
  RWSEM_UNLOCKED_VALUE,
  RWSEM_WAITING_BIAS,
  RWSEM_WAITING_FOR_READ,
  RWSEM_WAITING_FOR_WRITE,
} from './rwsem_types.js';
import {
  list_del,
  list_empty,
  list_is_singular,
  rwsem_add_waiter,
  rwsem_first_waiter,
  wait_list_init,
} from './rwsem_wait_list.js';
import { spin_lock, spin_lock_init, spin_trylock, spin_unlock } from './spinlock.js';

// kernel/locking/rwsem.h rwsem_set_reader_owned(), v4.14: the owner becomes the fake task
// RWSEM_READER_OWNED, written only when it is not already (the word is hot).
function rwsem_set_reader_owned(sem: number): void {
  if (Atomics.load(mem.i32, own(sem)) !== RWSEM_READER_OWNED_V4_14)
    Atomics.store(mem.i32, own(sem), RWSEM_READER_OWNED_V4_14);
}

// kernel/locking/rwsem.h rwsem_owner_is_writer(), rwsem_owner_is_reader(), v4.14
function rwsem_owner_is_writer(owner: number): boolean {
  return owner !== 0 && owner !== RWSEM_READER_OWNED_V4_14;
}

function rwsem_owner_is_reader(owner: number): boolean {
  return owner === RWSEM_READER_OWNED_V4_14;
}

// kernel/locking/rwsem-xadd.c __init_rwsem(), v4.14 (lockdep's part is in init_rwsem)
function __init_rwsem(sem: number): void {
  Atomics.store(mem.i32, cnt(sem), RWSEM_UNLOCKED_VALUE);
  spin_lock_init(sem + RWSEM.wait_lock, '&sem->wait_lock');
  wait_list_init(sem);
  Atomics.store(mem.i32, own(sem), 0);
  osq_lock_init(sem + RWSEM.osq);
}

// kernel/locking/rwsem-xadd.c __rwsem_mark_wake(), v4.14 (caller holds wait_lock): a writer at
// the head is only woken (RWSEM_WAKE_ANY), to win the count itself; readers at the head are
// granted, up to the first writer.
function __rwsem_mark_wake(sem: number, wake_type: number, wake_q: number[]): void {
  const i32 = mem.i32;
  let waiter = rwsem_first_waiter(sem);
  if (i32[waiter + TASK.w_type] === RWSEM_WAITING_FOR_WRITE) {
    if (wake_type === RWSEM_WAKE_ANY) wake_q.push(get_task_struct(Atomics.load(i32, waiter + TASK.w_task)));
    return;
  }
  let adjustment = 0;
  if (wake_type !== RWSEM_WAKE_READ_OWNED) {
    // Grant the first read lock before counting, to bail out early if a writer stole the lock.
    adjustment = RWSEM_ACTIVE_READ_BIAS;
    for (;;) {
      const oldcount = Atomics.add(i32, cnt(sem), adjustment);
      if (oldcount >= RWSEM_WAITING_BIAS) break;
      // A writer is active: undo the grant, and retry only if the last active locker left.
      if (((Atomics.sub(i32, cnt(sem), adjustment) - adjustment) | 0) < RWSEM_WAITING_BIAS) return;
    }
    rwsem_set_reader_owned(sem);
  }
  let woken = 0;
  while (waiter !== 0 && i32[waiter + TASK.w_type] !== RWSEM_WAITING_FOR_WRITE) {
    const next = i32[waiter + TASK.w_next]!;
    woken++;
    const tsk = Atomics.load(i32, waiter + TASK.w_task);
    wake_q.push(get_task_struct(tsk));
    list_del(sem, waiter);
    // The reader may return from down_read() from here on (see the header).
    Atomics.store(i32, waiter + TASK.w_task, 0);
    // At atomic granularity the woken reader can run on, even up_read(), before its bias is added
    // below: the window a9e9bcb45b15 closed in v4.19.
    atomicPoint('__rwsem_mark_wake:woken');
    waiter = next;
  }
  adjustment = woken * RWSEM_ACTIVE_READ_BIAS - adjustment;
  if (list_empty(sem)) adjustment -= RWSEM_WAITING_BIAS;
  if (adjustment) Atomics.add(i32, cnt(sem), adjustment);
}

function initWaiter(w: number, type: number): void {
  Atomics.store(mem.i32, w + TASK.w_task, w);
  mem.i32[w + TASK.w_type] = type;
  mem.i32[w + TASK.w_handoff_set] = 0;
}

// kernel/locking/rwsem-xadd.c __rwsem_down_read_failed_common(), v4.15 (v4.14's
// rwsem_down_read_failed() is its TASK_UNINTERRUPTIBLE case). Returns 0 or -EINTR.
function __rwsem_down_read_failed_common(sem: number, state: number): number {
  const i32 = mem.i32;
  const wake_q: number[] = [];
  const me = get_current();
  let adjustment = -RWSEM_ACTIVE_READ_BIAS;
  point('rwsem_down_read_failed');
  initWaiter(me, RWSEM_WAITING_FOR_READ);
  spin_lock(sem + RWSEM.wait_lock);
  if (list_empty(sem)) adjustment += RWSEM_WAITING_BIAS;
  rwsem_add_waiter(sem, me);
  // Now waiting on the lock, no longer actively locking.
  const count = (Atomics.add(i32, cnt(sem), adjustment) + adjustment) | 0;
  // No active locks: wake the head. No writers and we are first: join the active readers.
  if (count === RWSEM_WAITING_BIAS || (count > RWSEM_WAITING_BIAS && adjustment !== -RWSEM_ACTIVE_READ_BIAS))
    __rwsem_mark_wake(sem, RWSEM_WAKE_ANY, wake_q);
  spin_unlock(sem + RWSEM.wait_lock);
  wake_up_q(wake_q);
  for (;;) {
    set_current_state(state);
    if (Atomics.load(i32, me + TASK.w_task) === 0) break;
    if (signal_pending_state(state, me)) {
      spin_lock(sem + RWSEM.wait_lock);
      if (Atomics.load(i32, me + TASK.w_task) !== 0) {
        // out_nolock: leave the queue; the last waiter out takes the waiting bias with it.
        list_del(sem, me);
        if (list_empty(sem)) Atomics.add(i32, cnt(sem), -RWSEM_WAITING_BIAS);
        spin_unlock(sem + RWSEM.wait_lock);
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

// kernel/locking/rwsem-xadd.c rwsem_down_read_failed(), v4.14
function rwsem_down_read_failed(sem: number): void {
  __rwsem_down_read_failed_common(sem, TASK_UNINTERRUPTIBLE);
}

// kernel/locking/rwsem-xadd.c rwsem_try_write_lock(), v4.14 (caller holds wait_lock): only from
// "waiters, nobody active"; the waiting bias stays if others remain queued.
function rwsem_try_write_lock(count: number, sem: number): boolean {
  if (count !== RWSEM_WAITING_BIAS) return false;
  const next = list_is_singular(sem) ? RWSEM_ACTIVE_WRITE_BIAS : RWSEM_ACTIVE_WRITE_BIAS + RWSEM_WAITING_BIAS;
  if (Atomics.compareExchange(mem.i32, cnt(sem), RWSEM_WAITING_BIAS, next) !== RWSEM_WAITING_BIAS)
    return false;
  rwsem_set_owner(sem);
  return true;
}

// kernel/locking/rwsem-xadd.c rwsem_try_write_lock_unqueued(), v4.14: take a free lock, or one
// with only sleeping waiters, ahead of them.
function rwsem_try_write_lock_unqueued(sem: number): boolean {
  const i32 = mem.i32;
  let count = Atomics.load(i32, cnt(sem));
  while (count === 0 || count === RWSEM_WAITING_BIAS) {
    const old = Atomics.compareExchange(i32, cnt(sem), count, (count + RWSEM_ACTIVE_WRITE_BIAS) | 0);
    if (old === count) {
      rwsem_set_owner(sem);
      return true;
    }
    count = old;
  }
  return false;
}

// kernel/sched/core.c owner->on_cpu: the task is running on a CPU now.
function owner_on_cpu(owner: number): boolean {
  return Atomics.load(mem.i32, owner + TASK.on_cpu) !== 0;
}

// kernel/locking/rwsem-xadd.c rwsem_can_spin_on_owner(), v4.14: not on readers (their owner is
// anonymous), nor on a writer that is off its CPU.
function rwsem_can_spin_on_owner(sem: number): boolean {
  if (!rwsemSpinEnabled()) return false;
  const owner = Atomics.load(mem.i32, own(sem));
  if (!rwsem_owner_is_writer(owner)) return !rwsem_owner_is_reader(owner);
  return owner_on_cpu(owner);
}

// kernel/locking/rwsem-xadd.c rwsem_spin_on_owner(), v4.14: spin while the same writer owns the
// lock and runs; true while spinning on the (new) owner can still pay.
function rwsem_spin_on_owner(sem: number): boolean {
  const i32 = mem.i32;
  const owner = Atomics.load(i32, own(sem));
  if (rwsem_owner_is_writer(owner)) {
    const runner = cpuCtx.runner;
    for (let spins = 0; Atomics.load(i32, own(sem)) === owner; spins++) {
      if (!owner_on_cpu(owner) || spins >= MAX_SPIN) return false;
      runner.relax(spins);
    }
  }
  return !rwsem_owner_is_reader(Atomics.load(i32, own(sem)));
}

// kernel/locking/rwsem-xadd.c rwsem_optimistic_spin(), v4.14: the OSQ head spins on the owner and
// tries the count whenever the owner changes.
function rwsem_optimistic_spin(sem: number): boolean {
  if (!rwsem_can_spin_on_owner(sem)) return false;
  const osq = sem + RWSEM.osq;
  if (!osq_lock(osq)) return false;
  let taken = false;
  const runner = cpuCtx.runner;
  for (let spins = 0; rwsem_spin_on_owner(sem); spins++) {
    if (rwsem_try_write_lock_unqueued(sem)) {
      taken = true;
      break;
    }
    // No owner: the holder may be between taking the count and setting owner; need_resched().
    if (!Atomics.load(mem.i32, own(sem)) && spins >= MAX_SPIN) break;
    runner.relax(spins);
  }
  osq_unlock(osq);
  lockevent_inc(taken ? 'rwsem_opt_lock' : 'rwsem_opt_fail');
  return taken;
}

// kernel/locking/rwsem-xadd.c __rwsem_down_write_failed_common(), v4.14. Returns 0 or -EINTR.
function __rwsem_down_write_failed_common(sem: number, state: number): number {
  const i32 = mem.i32;
  const wake_q: number[] = [];
  const me = get_current();
  point('rwsem_down_write_failed');
  // Undo the write bias of the fast path: no longer actively locking.
  let count = (Atomics.sub(i32, cnt(sem), RWSEM_ACTIVE_WRITE_BIAS) - RWSEM_ACTIVE_WRITE_BIAS) | 0;
  if (rwsem_optimistic_spin(sem)) return 0;
  initWaiter(me, RWSEM_WAITING_FOR_WRITE);
  spin_lock(sem + RWSEM.wait_lock);
  const waiting = !list_empty(sem);
  rwsem_add_waiter(sem, me);
  if (waiting) {
    count = Atomics.load(i32, cnt(sem));
    // Queued behind others and no active writer: readers own it, wake the readers ahead of us
    // (at once, under wait_lock, as v4.14 does).
    if (count > RWSEM_WAITING_BIAS) {
      __rwsem_mark_wake(sem, RWSEM_WAKE_READERS, wake_q);
      wake_up_q(wake_q);
    }
  } else {
    count = (Atomics.add(i32, cnt(sem), RWSEM_WAITING_BIAS) + RWSEM_WAITING_BIAS) | 0;
  }
  set_current_state(state);
  while (!rwsem_try_write_lock(count, sem)) {
    spin_unlock(sem + RWSEM.wait_lock);
    // Block until there are no active lockers.
    do {
      if (signal_pending_state(state, me)) {
        // out_nolock
        set_current_state(TASK_RUNNING);
        spin_lock(sem + RWSEM.wait_lock);
        list_del(sem, me);
        if (list_empty(sem)) Atomics.add(i32, cnt(sem), -RWSEM_WAITING_BIAS);
        else __rwsem_mark_wake(sem, RWSEM_WAKE_ANY, wake_q);
        spin_unlock(sem + RWSEM.wait_lock);
        wake_up_q(wake_q);
        return -EINTR;
      }
      schedule();
      set_current_state(state);
      count = Atomics.load(i32, cnt(sem));
    } while (count & RWSEM_ACTIVE_MASK);
    spin_lock(sem + RWSEM.wait_lock);
  }
  set_current_state(TASK_RUNNING);
  list_del(sem, me);
  spin_unlock(sem + RWSEM.wait_lock);
  return 0;
}

// kernel/locking/rwsem-xadd.c rwsem_down_write_failed(), v4.14: where a failed write fast path
// goes (exported, as the kernel's is, for the arch code; torture's busted variant calls it).
export function rwsem_down_write_failed(sem: number): void {
  __rwsem_down_write_failed_common(sem, TASK_UNINTERRUPTIBLE);
}

// kernel/locking/rwsem-xadd.c rwsem_wake(), v4.14: with an optimistic spinner present, only try
// the wait_lock: the spinner is bound to try the count again before it sleeps.
function rwsem_wake(sem: number): void {
  const wake_q: number[] = [];
  if (osq_is_locked(sem + RWSEM.osq)) {
    // rwsem_has_spinner()
    if (!spin_trylock(sem + RWSEM.wait_lock)) return;
  } else {
    spin_lock(sem + RWSEM.wait_lock);
  }
  if (!list_empty(sem)) __rwsem_mark_wake(sem, RWSEM_WAKE_ANY, wake_q);
  spin_unlock(sem + RWSEM.wait_lock);
  wake_up_q(wake_q);
}

// kernel/locking/rwsem-xadd.c rwsem_downgrade_wake(), v4.14: wake the readers at the head.
function rwsem_downgrade_wake(sem: number): void {
  const wake_q: number[] = [];
  spin_lock(sem + RWSEM.wait_lock);
  if (!list_empty(sem)) __rwsem_mark_wake(sem, RWSEM_WAKE_READ_OWNED, wake_q);
  spin_unlock(sem + RWSEM.wait_lock);
  wake_up_q(wake_q);
}

// arch/x86/include/asm/rwsem.h __down_read(), v4.14: inc; a negative result means a writer is
// active or waiters are queued.
function __down_read(sem: number): void {
  if (((Atomics.add(mem.i32, cnt(sem), RWSEM_ACTIVE_READ_BIAS) + RWSEM_ACTIVE_READ_BIAS) | 0) < 0)
    rwsem_down_read_failed(sem);
}

// arch/x86/include/asm/rwsem.h __down_read_killable(), v4.15
function __down_read_killable(sem: number): number {
  if (((Atomics.add(mem.i32, cnt(sem), RWSEM_ACTIVE_READ_BIAS) + RWSEM_ACTIVE_READ_BIAS) | 0) < 0)
    return __rwsem_down_read_failed_common(sem, TASK_KILLABLE);
  return 0;
}

// arch/x86/include/asm/rwsem.h __down_read_trylock(), v4.14: only while the count is not negative.
function __down_read_trylock(sem: number): boolean {
  const i32 = mem.i32;
  let result = Atomics.load(i32, cnt(sem));
  for (;;) {
    const tmp = (result + RWSEM_ACTIVE_READ_BIAS) | 0;
    if (tmp <= 0) break;
    const old = Atomics.compareExchange(i32, cnt(sem), result, tmp);
    if (old === result) break;
    result = old;
  }
  return result >= 0;
}

// arch/x86/include/asm/rwsem.h ____down_write(), v4.14: xadd the write bias; the lock is ours if
// the old active part was 0, even with waiters queued (the fast path steals from them).
function ____down_write(sem: number): boolean {
  return (Atomics.add(mem.i32, cnt(sem), RWSEM_ACTIVE_WRITE_BIAS) & RWSEM_ACTIVE_MASK) === 0;
}

// arch/x86/include/asm/rwsem.h __down_write(), __down_write_killable(), v4.14
function __down_write(sem: number): void {
  if (!____down_write(sem)) rwsem_down_write_failed(sem);
}

function __down_write_killable(sem: number): number {
  if (!____down_write(sem)) return __rwsem_down_write_failed_common(sem, TASK_KILLABLE);
  return 0;
}

// arch/x86/include/asm/rwsem.h __down_write_trylock(), v4.14: while the active part is 0.
function __down_write_trylock(sem: number): boolean {
  const i32 = mem.i32;
  let tmp0 = Atomics.load(i32, cnt(sem));
  while (!(tmp0 & RWSEM_ACTIVE_MASK)) {
    const old = Atomics.compareExchange(i32, cnt(sem), tmp0, (tmp0 + RWSEM_ACTIVE_WRITE_BIAS) | 0);
    if (old === tmp0) return true;
    tmp0 = old;
  }
  return false;
}

// arch/x86/include/asm/rwsem.h __up_read() + arch/x86/lib/rwsem.S call_rwsem_wake, v4.14: wake
// when the count is negative (waiters) and this was the last active locker.
function __up_read(sem: number): void {
  const tmp = (Atomics.sub(mem.i32, cnt(sem), RWSEM_ACTIVE_READ_BIAS) - RWSEM_ACTIVE_READ_BIAS) | 0;
  if (tmp < 0 && (tmp & RWSEM_ACTIVE_MASK) === 0) rwsem_wake(sem);
}

// arch/x86/include/asm/rwsem.h __up_write() + call_rwsem_wake, v4.14
function __up_write(sem: number): void {
  const tmp = (Atomics.sub(mem.i32, cnt(sem), RWSEM_ACTIVE_WRITE_BIAS) - RWSEM_ACTIVE_WRITE_BIAS) | 0;
  if (tmp < 0 && (tmp & RWSEM_ACTIVE_MASK) === 0) rwsem_wake(sem);
}

// arch/x86/include/asm/rwsem.h __downgrade_write(), v4.14: 0xZZZZ0001 -> 0xYYYY0001; still negative
// means waiters.
function __downgrade_write(sem: number): void {
  if (((Atomics.sub(mem.i32, cnt(sem), RWSEM_WAITING_BIAS) - RWSEM_WAITING_BIAS) | 0) < 0)
    rwsem_downgrade_wake(sem);
}

/**
 * The v4.14 rw_semaphore. kernel/locking/rwsem.c (v4.14) set the owner word in the wrappers
 * around the arch fast paths; here that is each op's second half.
 */
export const rwsem_v4_14: RwsemOps = {
  name: 'rwsem-xadd.c (v4.14)',
  source: 'kernel/locking/rwsem-xadd.c, arch/x86/include/asm/rwsem.h',
  // x86 defconfigs had =y. Off here as in the v6.6 model: without need_resched() a writer whose
  // owner spins on it in turn (an AB-BA between writers) spins out its MAX_SPIN bound instead of
  // sleeping, and the eras' figures then differ by the algorithm alone. The switch turns it on.
  CONFIG_RWSEM_SPIN_ON_OWNER: false,
  __init_rwsem,
  __down_read: (sem) => {
    __down_read(sem);
    rwsem_set_reader_owned(sem);
  },
  __down_read_killable: (sem) => {
    const ret = __down_read_killable(sem);
    if (ret === 0) rwsem_set_reader_owned(sem);
    return ret;
  },
  __down_read_trylock: (sem) => {
    if (!__down_read_trylock(sem)) return false;
    rwsem_set_reader_owned(sem);
    return true;
  },
  __down_write: (sem) => {
    __down_write(sem);
    rwsem_set_owner(sem);
  },
  __down_write_killable: (sem) => {
    const ret = __down_write_killable(sem);
    if (ret === 0) rwsem_set_owner(sem);
    return ret;
  },
  __down_write_trylock: (sem) => {
    if (!__down_write_trylock(sem)) return false;
    rwsem_set_owner(sem);
    return true;
  },
  __up_read,
  __up_write: (sem) => {
    rwsem_clear_owner(sem);
    __up_write(sem);
  },
  __downgrade_write: (sem) => {
    rwsem_set_reader_owned(sem);
    __downgrade_write(sem);
  },
  rwsem_reader_count: (sem) => Atomics.load(mem.i32, cnt(sem)) & RWSEM_ACTIVE_MASK,
};
