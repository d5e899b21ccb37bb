// kernel/locking/rwsem.c optimistic spinning (CONFIG_RWSEM_SPIN_ON_OWNER), v6.6: a writer about
// to sleep first spins while the lock's owner is a writer running on a CPU, or for a short time
// while readers own it, trying to take the lock unqueued. Off by default, which is a real kernel
// configuration (rwsem_config.ts); `rwsem_spin_on_owner_enable(true)` turns it on for every CPU.
// Emulator differences: need_resched() is never true (a CPU runs one task), so a spin is bounded
// by an iteration count instead. Spinners queue on the OSQ (osq_lock.ts): only its head spins on
// the owner, the others on their per-CPU node.

import { cpuCtx } from '../../cpu/context.js';
import { mem } from '../../shm/arena.js';
import { get_current } from '../sched.js';
import { TASK } from '../task_struct.js';
import { lockevent_inc } from './lock_events.js';
import { osq_lock, osq_unlock } from './osq_lock.js';
import { MAX_SPIN, rwsemSpinEnabled as spinEnabled } from './rwsem_config.js';
import {
  RWSEM,
  RWSEM_FLAG_HANDOFF,
  RWSEM_LOCK_MASK,
  RWSEM_NONSPINNABLE,
  RWSEM_OWNER_FLAGS_MASK,
  RWSEM_READER_OWNED,
  RWSEM_READER_SHIFT,
  RWSEM_WRITER_LOCKED,
} from './rwsem_types.js';

export const OWNER_NULL = 1 << 0;
export const OWNER_WRITER = 1 << 1;
export const OWNER_READER = 1 << 2;
export const OWNER_NONSPINNABLE = 1 << 3;
const OWNER_SPINNABLE = OWNER_NULL | OWNER_WRITER | OWNER_READER;

export { rwsem_spin_on_owner_enable } from './rwsem_config.js';

// kernel/locking/rwsem.c rwsem_set_nonspinnable(), v6.6
export function rwsem_set_nonspinnable(sem: number): void {
  const at = sem + RWSEM.owner;
  let owner = Atomics.load(mem.i32, at);
  for (;;) {
    if (!(owner & RWSEM_READER_OWNED) || owner & RWSEM_NONSPINNABLE) return;
    const seen = Atomics.compareExchange(mem.i32, at, owner, owner | RWSEM_NONSPINNABLE);
    if (seen === owner) return;
    owner = seen;
  }
}

// kernel/sched/core.c owner_on_cpu(): the task is running on a CPU now.
function owner_on_cpu(owner: number): boolean {
  return Atomics.load(mem.i32, owner + TASK.on_cpu) !== 0;
}

function rwsem_owner_state(owner: number, flags: number): number {
  if (flags & RWSEM_NONSPINNABLE) return OWNER_NONSPINNABLE;
  if (flags & RWSEM_READER_OWNED) return OWNER_READER;
  return owner ? OWNER_WRITER : OWNER_NULL;
}

// kernel/locking/rwsem.c rwsem_can_spin_on_owner(), v6.6
export function rwsem_can_spin_on_owner(sem: number): boolean {
  if (!spinEnabled()) return false;
  const v = Atomics.load(mem.i32, sem + RWSEM.owner);
  const owner = v & ~RWSEM_OWNER_FLAGS_MASK;
  if (v & RWSEM_NONSPINNABLE) return false;
  return !(owner && !(v & RWSEM_READER_OWNED) && !owner_on_cpu(owner));
}

// kernel/locking/rwsem.c rwsem_spin_on_owner(), v6.6
export function rwsem_spin_on_owner(sem: number): number {
  if (!spinEnabled()) return OWNER_NONSPINNABLE;
  const at = sem + RWSEM.owner;
  const v = Atomics.load(mem.i32, at);
  const owner = v & ~RWSEM_OWNER_FLAGS_MASK;
  const state = rwsem_owner_state(owner, v & RWSEM_OWNER_FLAGS_MASK);
  if (state !== OWNER_WRITER) return state;
  for (let spins = 0; ; spins++) {
    const now = Atomics.load(mem.i32, at);
    if (now !== v) return rwsem_owner_state(now & ~RWSEM_OWNER_FLAGS_MASK, now & RWSEM_OWNER_FLAGS_MASK);
    if (spins >= MAX_SPIN || !owner_on_cpu(owner)) return OWNER_NONSPINNABLE;
    cpuCtx.runner.relax(spins);
  }
}

// kernel/locking/rwsem.c rwsem_try_write_lock_unqueued(), v6.6: ignores WAITERS, so a spinner can
// take the lock ahead of sleeping waiters (but never against a pending handoff).
function rwsem_try_write_lock_unqueued(sem: number): boolean {
  const at = sem + RWSEM.count;
  let count = Atomics.load(mem.i32, at);
  while (!(count & (RWSEM_LOCK_MASK | RWSEM_FLAG_HANDOFF))) {
    const seen = Atomics.compareExchange(mem.i32, at, count, count | RWSEM_WRITER_LOCKED);
    if (seen === count) {
      Atomics.store(mem.i32, sem + RWSEM.owner, get_current());
      return true;
    }
    count = seen;
  }
  return false;
}

/** (10 + readers/2) µs, at most 25 µs, of spinning on a reader-owned lock (emulated ms). */
function rwsem_rspin_threshold(sem: number): number {
  const readers = Atomics.load(mem.i32, sem + RWSEM.count) >> RWSEM_READER_SHIFT;
  return cpuCtx.runner.now() + (20 + Math.min(Math.max(readers, 0), 30)) / 2 / 1000;
}

// kernel/locking/rwsem.c rwsem_optimistic_spin(), v6.6
export function rwsem_optimistic_spin(sem: number): boolean {
  const osq = sem + RWSEM.osq;
  if (!osq_lock(osq)) return false;
  let taken = false;
  let prev = OWNER_NULL;
  let threshold = 0;
  let loop = 0;
  for (let spins = 0; spins < MAX_SPIN; spins++) {
    const state = rwsem_spin_on_owner(sem);
    if (!(state & OWNER_SPINNABLE)) break;
    taken = rwsem_try_write_lock_unqueued(sem);
    if (taken) break;
    if (state === OWNER_READER) {
      if (prev !== OWNER_READER) {
        if (Atomics.load(mem.i32, sem + RWSEM.owner) & RWSEM_NONSPINNABLE) break;
        threshold = rwsem_rspin_threshold(sem);
        loop = 0;
      } else if (!(++loop & 0xf) && cpuCtx.runner.now() > threshold) {
        rwsem_set_nonspinnable(sem);
        break;
      }
    }
    prev = state;
    cpuCtx.runner.relax(spins);
  }
  osq_unlock(osq);
  lockevent_inc(taken ? 'rwsem_opt_lock' : 'rwsem_opt_fail');
  return taken;
}
