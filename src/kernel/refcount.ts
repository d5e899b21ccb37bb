// include/linux/refcount.h + lib/refcount.c (v5.5+ saturation semantics, as in v6.6): refcount_t
// on one Int32 word. Errors do not trap: the counter is set to REFCOUNT_SATURATED (midway through
// the negative "bad" range, so racing increments and decrements cannot walk it back to a small
// positive value) and a warning is printed once per WARN_ONCE site. A saturated object leaks
// instead of being freed early.
//
// Memory ordering: the kernel's increments are relaxed, decrements release (plus acquire when they
// hit zero). Every access here is an SC Atomics op, which is stronger: a kernel bug that needs a
// relaxed refcount_inc() to be reordered (e.g. a missing acquire after refcount_inc_not_zero() on
// a SLAB_TYPESAFE_BY_RCU object) does not reproduce in this emulator.
import { atomicPoint, point } from '../cpu/context.js';
import { mem } from '../shm/arena.js';
import { intern } from '../shm/strtab.js';
import { spin_lock, spin_unlock } from './locking/spinlock.js';
import { check_kernel_pointer, PANIC, WARN } from './panic.js';

export const REFCOUNT_MAX = 0x7fffffff;
/** INT_MIN / 2 = 0xc0000000 as an int32. */
export const REFCOUNT_SATURATED = 0xc0000000 | 0;

// enum refcount_saturation_type
export const REFCOUNT_ADD_NOT_ZERO_OVF = 0;
export const REFCOUNT_ADD_OVF = 1;
export const REFCOUNT_ADD_UAF = 2;
export const REFCOUNT_SUB_UAF = 3;
export const REFCOUNT_DEC_LEAK = 4;

/**
 * Each REFCOUNT_WARN() in refcount_warn_saturate() is its own WARN_ONCE site, so each saturation
 * type warns once (the two overflow types separately). Line numbers are those of v6.x lib/refcount.c.
 */
const SATURATE_WARN: readonly (readonly [site: string, text: string])[] = [
  ['lib/refcount.c:19 refcount_warn_saturate', 'refcount_t: saturated; leaking memory.'],
  ['lib/refcount.c:22 refcount_warn_saturate', 'refcount_t: saturated; leaking memory.'],
  ['lib/refcount.c:25 refcount_warn_saturate', 'refcount_t: addition on 0; use-after-free.'],
  ['lib/refcount.c:28 refcount_warn_saturate', 'refcount_t: underflow; use-after-free.'],
  ['lib/refcount.c:31 refcount_warn_saturate', 'refcount_t: decrement hit 0; leaking memory.'],
];

/**
 * The `__warned` flag of a WARN_ONCE site: true for the first caller only. Shares panic.ts's
 * per-run table of warned sites (the one WARN_ON_ONCE uses, cleared by panicReset), because
 * panic.ts has no WARN_ONCE(cond, site, text) yet; replace with that once it exists.
 */
function warn_once_first(site: string): boolean {
  const id = intern(site);
  const i32 = mem.i32;
  const b = PANIC.base() + PANIC.layout.warned;
  const slots = PANIC.layout.SIZE - PANIC.layout.warned;
  for (let i = 0; i < slots; i++) {
    const v = Atomics.compareExchange(i32, b + i, 0, id);
    if (v === id) return false;
    if (v === 0) return true;
  }
  return true; // table full: warn every time rather than never
}

// lib/refcount.c refcount_warn_saturate(), v6.6
export function refcount_warn_saturate(r: number, t: number): void {
  refcount_set(r, REFCOUNT_SATURATED);
  const [site, text] = SATURATE_WARN[t] ?? [
    'lib/refcount.c:34 refcount_warn_saturate',
    'refcount_t: unknown saturation event!?',
  ];
  if (warn_once_first(site)) WARN(site, text);
}

// include/linux/refcount.h refcount_set(), v6.6
export function refcount_set(r: number, n: number): void {
  check_kernel_pointer(r, true);
  Atomics.store(mem.i32, r, n | 0);
}

/** The counter as an int32: a saturated counter reads REFCOUNT_SATURATED (the kernel's 0xc0000000u). */
// include/linux/refcount.h refcount_read(), v6.6
export function refcount_read(r: number): number {
  check_kernel_pointer(r, false);
  return Atomics.load(mem.i32, r);
}

// include/linux/refcount.h __refcount_add_not_zero(), v6.6
function __refcount_add_not_zero(i: number, r: number): boolean {
  const i32 = mem.i32;
  atomicPoint('refcount:read');
  let old = Atomics.load(i32, r);
  while (old !== 0) {
    // atomic_try_cmpxchg_relaxed(): a saturated (negative) counter is bumped too, then reset below.
    atomicPoint('refcount:cmpxchg');
    const seen = Atomics.compareExchange(i32, r, old, (old + i) | 0);
    if (seen === old) break;
    old = seen;
  }
  if (old < 0 || ((old + i) | 0) < 0) refcount_warn_saturate(r, REFCOUNT_ADD_NOT_ZERO_OVF);
  return old !== 0;
}

// include/linux/refcount.h refcount_add_not_zero(), v6.6
export function refcount_add_not_zero(i: number, r: number): boolean {
  check_kernel_pointer(r, true);
  return __refcount_add_not_zero(i, r);
}

// include/linux/refcount.h refcount_inc_not_zero(), v6.6
export function refcount_inc_not_zero(r: number): boolean {
  check_kernel_pointer(r, true);
  return __refcount_add_not_zero(1, r);
}

// include/linux/refcount.h __refcount_add(), v6.6
function __refcount_add(i: number, r: number): void {
  // atomic_fetch_add_relaxed(): the add lands unchecked; detect-then-saturate is racy by design.
  atomicPoint('refcount:add');
  const old = Atomics.add(mem.i32, r, i);
  if (old === 0) refcount_warn_saturate(r, REFCOUNT_ADD_UAF);
  else if (old < 0 || ((old + i) | 0) < 0) refcount_warn_saturate(r, REFCOUNT_ADD_OVF);
}

// include/linux/refcount.h refcount_add(), v6.6
export function refcount_add(i: number, r: number): void {
  check_kernel_pointer(r, true);
  __refcount_add(i, r);
}

// include/linux/refcount.h refcount_inc(), v6.6
export function refcount_inc(r: number): void {
  check_kernel_pointer(r, true);
  __refcount_add(1, r);
}

// include/linux/refcount.h __refcount_sub_and_test(), v6.6
function __refcount_sub_and_test(i: number, r: number): boolean {
  atomicPoint('refcount:sub');
  const old = Atomics.sub(mem.i32, r, i); // atomic_fetch_sub_release()
  if (old > 0 && old === i) return true; // smp_acquire__after_ctrl_dep(): implied by SC
  if (old <= 0 || ((old - i) | 0) < 0) refcount_warn_saturate(r, REFCOUNT_SUB_UAF);
  return false;
}

// include/linux/refcount.h refcount_sub_and_test(), v6.6
export function refcount_sub_and_test(i: number, r: number): boolean {
  check_kernel_pointer(r, true);
  return __refcount_sub_and_test(i, r);
}

// include/linux/refcount.h refcount_dec_and_test(), v6.6
export function refcount_dec_and_test(r: number): boolean {
  check_kernel_pointer(r, true);
  return __refcount_sub_and_test(1, r);
}

// include/linux/refcount.h refcount_dec(), v6.6
export function refcount_dec(r: number): void {
  check_kernel_pointer(r, true);
  atomicPoint('refcount:sub');
  const old = Atomics.sub(mem.i32, r, 1); // atomic_fetch_sub_release()
  if (old <= 1) refcount_warn_saturate(r, REFCOUNT_DEC_LEAK);
}

// lib/refcount.c refcount_dec_if_one(), v6.6
export function refcount_dec_if_one(r: number): boolean {
  check_kernel_pointer(r, true);
  atomicPoint('refcount:cmpxchg');
  return Atomics.compareExchange(mem.i32, r, 1, 0) === 1; // atomic_try_cmpxchg_release()
}

// lib/refcount.c refcount_dec_not_one(), v6.6
export function refcount_dec_not_one(r: number): boolean {
  check_kernel_pointer(r, true);
  const i32 = mem.i32;
  atomicPoint('refcount:read');
  let val = Atomics.load(i32, r);
  for (;;) {
    if (val === REFCOUNT_SATURATED) return true;
    if (val === 1) return false;
    // The kernel computes `new = val - 1` unsigned and treats new > val as underflow, which is
    // only val == 0. This WARN_ONCE is its own site and, unlike refcount_warn_saturate(), does not
    // saturate; other negative values are decremented silently.
    if (val === 0) {
      const site = 'lib/refcount.c:refcount_dec_not_one';
      if (warn_once_first(site)) WARN(site, 'refcount_t: underflow; use-after-free.');
      return true;
    }
    atomicPoint('refcount:cmpxchg');
    const seen = Atomics.compareExchange(i32, r, val, (val - 1) | 0); // atomic_try_cmpxchg_release()
    if (seen === val) return true;
    val = seen;
  }
}

// lib/refcount.c refcount_dec_and_lock(), v6.6: true, with `lock` held, iff the count hit 0.
export function refcount_dec_and_lock(r: number, lock: number): boolean {
  point('refcount_dec_and_lock');
  check_kernel_pointer(r, true);
  if (refcount_dec_not_one(r)) return false;
  spin_lock(lock);
  if (!refcount_dec_and_test(r)) {
    spin_unlock(lock);
    return false;
  }
  return true;
}
