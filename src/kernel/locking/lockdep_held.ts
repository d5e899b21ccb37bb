// struct heldLock (include/linux/lockdep.h) and the per-task held-lock stack in
// task_struct.held_locks[]. Only the owning task writes its stack; other CPUs may read it for a
// report, so every word goes through Atomics.
import { cpuCtx } from '../../cpu/context.js';
import { mem } from '../../shm/arena.js';
import { TASK } from '../task_struct.js';

// task_struct offsets read once: the layout object has too many fields for V8's fast properties.
const LOCKDEP_DEPTH = TASK.lockdep_depth;
const HELD_LOCKS = TASK.held_locks;

export const HL_WORDS = 5;
/** class_idx (bits 0-15) | read (bits 16-17: 0 exclusive, 1 shared, 2 recursive) | trylock (bit 18) */
const HL_FLAGS = 0;
export const HL_INSTANCE = 1;
export const HL_ACQUIRE_IP = 2;
/** lockstat_clock() at acquisition (or at lock_acquired after a wait) */
export const HL_HOLDTIME_STAMP = 3;
/** lockstat_clock() at lock_contended, 0 when the acquisition did not wait */
export const HL_WAITTIME_STAMP = 4;

// include/linux/sched.h MAX_LOCK_DEPTH is 48; task_struct here has room for 16.
export const MAX_LOCK_DEPTH = 16;
if (MAX_LOCK_DEPTH * HL_WORDS > 80) throw new Error('task_struct.held_locks is too small');

/** `t`'s lockdep_depth: the number of entries on its held-lock stack. */
export function lockdepDepth(t: number): number {
  return Atomics.load(mem.i32, t + LOCKDEP_DEPTH);
}

export function heldLock(t: number, i: number): number {
  return t + HELD_LOCKS + i * HL_WORDS;
}

// kernel/locking/lockdep.c hlock_class(), v6.6 (here the class index)
export function hlock_class(h: number): number {
  return Atomics.load(mem.i32, h + HL_FLAGS) & 0xffff;
}

export function hlockRead(h: number): number {
  return (Atomics.load(mem.i32, h + HL_FLAGS) >>> 16) & 3;
}

export function hlockTrylock(h: number): boolean {
  return (Atomics.load(mem.i32, h + HL_FLAGS) & (1 << 18)) !== 0;
}

export function hlockSetRead(h: number, read: number): void {
  const f = Atomics.load(mem.i32, h + HL_FLAGS);
  Atomics.store(mem.i32, h + HL_FLAGS, (f & ~(3 << 16)) | (read << 16));
}

export function hlockGet(h: number, field: number): number {
  return Atomics.load(mem.i32, h + field);
}

export function hlockSet(h: number, field: number, v: number): void {
  Atomics.store(mem.i32, h + field, v);
}

/** Fill the entry above the top of `t`'s stack (not yet pushed: validation sees it as "next"). */
export function prepareHeldLock(
  t: number,
  class_idx: number,
  read: number,
  trylock: number,
  lock: number,
  ip: number,
  stamp: number,
): number {
  const h = heldLock(t, lockdepDepth(t));
  const i32 = mem.i32;
  Atomics.store(i32, h + HL_FLAGS, class_idx | (read << 16) | (trylock ? 1 << 18 : 0));
  Atomics.store(i32, h + HL_INSTANCE, lock);
  Atomics.store(i32, h + HL_ACQUIRE_IP, ip);
  Atomics.store(i32, h + HL_HOLDTIME_STAMP, stamp);
  Atomics.store(i32, h + HL_WAITTIME_STAMP, 0);
  return h;
}

export function pushHeldLock(t: number): void {
  Atomics.add(mem.i32, t + LOCKDEP_DEPTH, 1);
}

// kernel/locking/lockdep.c find_held_lock(), v6.6: the topmost entry for `lock`, or -1.
export function find_held_lock(t: number, lock: number): number {
  for (let i = lockdepDepth(t) - 1; i >= 0; i--)
    if (Atomics.load(mem.i32, heldLock(t, i) + HL_INSTANCE) === lock) return i;
  return -1;
}

/** Drop entry `i` and close the gap (the kernel re-acquires the entries above it). */
export function removeHeldLock(t: number, i: number): void {
  const i32 = mem.i32;
  const depth = lockdepDepth(t);
  for (let k = heldLock(t, i); k < heldLock(t, depth - 1); k++)
    Atomics.store(i32, k, Atomics.load(i32, k + HL_WORDS));
  Atomics.store(i32, t + LOCKDEP_DEPTH, depth - 1);
}

/**
 * Does `current` hold any lock that lockdep or lock_stat tracked? The release paths' cheap test: only the task itself writes its lockdep_depth, so the CPU running it
 * may read it without Atomics (other CPUs only ever read it, with Atomics).
 */
export function currentHoldsTrackedLocks(): boolean {
  const t = cpuCtx.current;
  return t !== 0 && mem.i32[t + LOCKDEP_DEPTH] !== 0;
}
