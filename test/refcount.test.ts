import { describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { KernelOops } from '../src/cpu/errors.js';
import type { Runner } from '../src/cpu/runner.js';
import { spin_is_locked, spin_lock_init, spin_unlock } from '../src/kernel/locking/spinlock.js';
import {
  REFCOUNT_MAX,
  REFCOUNT_SATURATED,
  refcount_add,
  refcount_add_not_zero,
  refcount_dec,
  refcount_dec_and_lock,
  refcount_dec_and_test,
  refcount_dec_if_one,
  refcount_dec_not_one,
  refcount_inc,
  refcount_inc_not_zero,
  refcount_read,
  refcount_set,
  refcount_sub_and_test,
} from '../src/kernel/refcount.js';
import { __GFP_ZERO, alloc_page, GFP_KERNEL, page_address } from '../src/mm/page_alloc.js';
import { mem } from '../src/shm/arena.js';
import { boot, reports, spinGuard } from './helpers/boot.js';

const SATURATED = 'refcount_t: saturated; leaking memory.';
const ADD_UAF = 'refcount_t: addition on 0; use-after-free.';
const SUB_UAF = 'refcount_t: underflow; use-after-free.';
const DEC_LEAK = 'refcount_t: decrement hit 0; leaking memory.';

/** A fresh kernel and a zeroed page of words: refcounts at base, base+1, ... */
function setup(): { dmesg: () => string[]; base: number } {
  const { dmesg } = boot();
  cpuCtx.runner = spinGuard(cpuCtx.runner); // boot() installed a fresh boot runner
  const page = alloc_page(GFP_KERNEL | __GFP_ZERO, 'refcount.test');
  expect(page).not.toBe(0);
  return { dmesg, base: page_address(page) };
}

/** `inner`, with `hook` run when the CPU reaches preemption point `id`: another CPU acting there. */
function onPoint(inner: Runner, id: string, hook: () => void): Runner {
  return {
    mode: inner.mode,
    point: (p) => {
      if (p === id) hook();
      inner.point(p);
    },
    wait: (addr, expected, timeoutMs) => inner.wait(addr, expected, timeoutMs),
    wake: (addr, count) => inner.wake(addr, count),
    relax: (spins) => inner.relax(spins),
    now: () => inner.now(),
  };
}

const count = (lines: readonly string[], s: string): number => lines.filter((l) => l === s).length;

/** The WARNING line printed right after the warning text `text` (the first time it appears). */
function warningAfter(lines: readonly string[], text: string): string | undefined {
  const i = lines.indexOf(text);
  return i < 0 ? undefined : lines[i + 1];
}

describe('refcount_t saturation', () => {
  it('saturates on overflow of refcount_inc, warning once for that site', () => {
    const { dmesg, base } = setup();
    const r = base;
    refcount_set(r, REFCOUNT_MAX);
    refcount_inc(r);
    expect(refcount_read(r)).toBe(REFCOUNT_SATURATED);
    expect(REFCOUNT_SATURATED).toBe(-0x40000000);
    refcount_inc(r); // stays saturated, no second warning
    expect(refcount_read(r)).toBe(REFCOUNT_SATURATED);
    refcount_set(base + 1, REFCOUNT_MAX - 1);
    refcount_add(5, base + 1); // same site (REFCOUNT_ADD_OVF)
    expect(refcount_read(base + 1)).toBe(REFCOUNT_SATURATED);

    const lines = dmesg();
    expect(count(lines, SATURATED)).toBe(1);
    expect(warningAfter(lines, SATURATED)).toMatch(
      /^WARNING: CPU: -?\d+ PID: \d+ at lib\/refcount\.c:22 refcount_warn_saturate$/,
    );
    expect(reports(lines)).toHaveLength(1);
  });

  it('saturates on overflow of refcount_inc_not_zero, a separate once-site with the same text', () => {
    const { dmesg, base } = setup();
    refcount_set(base, REFCOUNT_MAX);
    expect(refcount_inc_not_zero(base)).toBe(true);
    expect(refcount_read(base)).toBe(REFCOUNT_SATURATED);
    refcount_set(base + 1, REFCOUNT_MAX);
    expect(refcount_add_not_zero(2, base + 1)).toBe(true);
    expect(refcount_read(base + 1)).toBe(REFCOUNT_SATURATED);
    refcount_set(base + 2, REFCOUNT_MAX);
    refcount_inc(base + 2); // the REFCOUNT_ADD_OVF site has not warned yet
    const lines = dmesg();
    expect(count(lines, SATURATED)).toBe(2);
    expect(reports(lines).map((l) => l.replace(/^.* at /, ''))).toEqual([
      'lib/refcount.c:19 refcount_warn_saturate',
      'lib/refcount.c:22 refcount_warn_saturate',
    ]);
  });

  it('saturates on increment from 0 (use-after-free), warning once', () => {
    const { dmesg, base } = setup();
    refcount_set(base, 0);
    refcount_inc(base);
    expect(refcount_read(base)).toBe(REFCOUNT_SATURATED);
    refcount_set(base + 1, 0);
    refcount_add(3, base + 1);
    expect(refcount_read(base + 1)).toBe(REFCOUNT_SATURATED);
    const lines = dmesg();
    expect(count(lines, ADD_UAF)).toBe(1);
    expect(warningAfter(lines, ADD_UAF)).toMatch(/ at lib\/refcount\.c:25 refcount_warn_saturate$/);
    expect(count(lines, SATURATED)).toBe(0);
  });

  it('saturates on underflow of refcount_dec_and_test / sub_and_test, warning once', () => {
    const { dmesg, base } = setup();
    refcount_set(base, 0);
    expect(refcount_dec_and_test(base)).toBe(false);
    expect(refcount_read(base)).toBe(REFCOUNT_SATURATED);
    refcount_set(base + 1, 2);
    expect(refcount_sub_and_test(3, base + 1)).toBe(false);
    expect(refcount_read(base + 1)).toBe(REFCOUNT_SATURATED);
    // Subtracting 0 from 0 is not a 1 -> 0 transition: an underflow, not a free.
    refcount_set(base + 2, 0);
    expect(refcount_sub_and_test(0, base + 2)).toBe(false);
    expect(refcount_read(base + 2)).toBe(REFCOUNT_SATURATED);
    // A saturated counter stays saturated: it is leaked, never freed.
    expect(refcount_dec_and_test(base)).toBe(false);
    expect(refcount_read(base)).toBe(REFCOUNT_SATURATED);
    const lines = dmesg();
    expect(count(lines, SUB_UAF)).toBe(1);
    expect(warningAfter(lines, SUB_UAF)).toMatch(/ at lib\/refcount\.c:28 refcount_warn_saturate$/);
  });

  it('refcount_dec to 0 saturates (leak), warning once', () => {
    const { dmesg, base } = setup();
    refcount_set(base, 1);
    refcount_dec(base);
    expect(refcount_read(base)).toBe(REFCOUNT_SATURATED);
    refcount_set(base + 1, 1);
    refcount_dec(base + 1);
    expect(refcount_read(base + 1)).toBe(REFCOUNT_SATURATED);
    refcount_set(base + 2, 3);
    refcount_dec(base + 2);
    expect(refcount_read(base + 2)).toBe(2);
    const lines = dmesg();
    expect(count(lines, DEC_LEAK)).toBe(1);
    expect(warningAfter(lines, DEC_LEAK)).toMatch(/ at lib\/refcount\.c:31 refcount_warn_saturate$/);
  });
});

describe('refcount_t operations', () => {
  it('refcount_inc_not_zero refuses 0 and increments otherwise', () => {
    const { dmesg, base } = setup();
    refcount_set(base, 0);
    expect(refcount_inc_not_zero(base)).toBe(false);
    expect(refcount_read(base)).toBe(0);
    expect(refcount_add_not_zero(4, base)).toBe(false);
    expect(refcount_read(base)).toBe(0);
    refcount_set(base, 3);
    expect(refcount_inc_not_zero(base)).toBe(true);
    expect(refcount_read(base)).toBe(4);
    expect(refcount_add_not_zero(4, base)).toBe(true);
    expect(refcount_read(base)).toBe(8);
    refcount_inc(base);
    refcount_add(2, base);
    expect(refcount_read(base)).toBe(11);
    expect(dmesg()).toEqual([]);
  });

  it('refcount_dec_and_test is true only on the 1 -> 0 transition', () => {
    const { dmesg, base } = setup();
    refcount_set(base, 3);
    expect(refcount_dec_and_test(base)).toBe(false);
    expect(refcount_dec_and_test(base)).toBe(false);
    expect(refcount_read(base)).toBe(1);
    expect(refcount_dec_and_test(base)).toBe(true);
    expect(refcount_read(base)).toBe(0);
    refcount_set(base, 5);
    expect(refcount_sub_and_test(3, base)).toBe(false);
    expect(refcount_sub_and_test(2, base)).toBe(true);
    expect(refcount_read(base)).toBe(0);
    expect(dmesg()).toEqual([]);
  });

  it('refcount_dec_if_one only does 1 -> 0', () => {
    const { dmesg, base } = setup();
    refcount_set(base, 2);
    expect(refcount_dec_if_one(base)).toBe(false);
    expect(refcount_read(base)).toBe(2);
    refcount_set(base, 1);
    expect(refcount_dec_if_one(base)).toBe(true);
    expect(refcount_read(base)).toBe(0);
    expect(refcount_dec_if_one(base)).toBe(false);
    expect(refcount_read(base)).toBe(0);
    expect(dmesg()).toEqual([]);
  });

  it('refcount_dec_not_one decrements unless the count is 1; saturated stays put', () => {
    const { dmesg, base } = setup();
    refcount_set(base, 3);
    expect(refcount_dec_not_one(base)).toBe(true);
    expect(refcount_read(base)).toBe(2);
    expect(refcount_dec_not_one(base)).toBe(true);
    expect(refcount_read(base)).toBe(1);
    expect(refcount_dec_not_one(base)).toBe(false);
    expect(refcount_read(base)).toBe(1);
    refcount_set(base, REFCOUNT_SATURATED);
    expect(refcount_dec_not_one(base)).toBe(true);
    expect(refcount_read(base)).toBe(REFCOUNT_SATURATED);
    expect(dmesg()).toEqual([]);
  });

  it('refcount_dec_not_one on 0 warns underflow once from its own site, without saturating', () => {
    const { dmesg, base } = setup();
    refcount_set(base, 0);
    expect(refcount_dec_not_one(base)).toBe(true);
    expect(refcount_read(base)).toBe(0);
    expect(refcount_dec_not_one(base)).toBe(true);
    const lines = dmesg();
    expect(count(lines, SUB_UAF)).toBe(1);
    expect(warningAfter(lines, SUB_UAF)).toMatch(/ at lib\/refcount\.c:refcount_dec_not_one$/);
  });

  it('refcount_dec_and_lock takes the lock only when the count hits zero', () => {
    const { dmesg, base } = setup();
    const r = base;
    const lock = base + 1;
    spin_lock_init(lock);
    refcount_set(r, 2);
    expect(refcount_dec_and_lock(r, lock)).toBe(false);
    expect(refcount_read(r)).toBe(1);
    expect(Atomics.load(mem.i32, lock)).toBe(0); // the ticket lock was never taken
    expect(refcount_dec_and_lock(r, lock)).toBe(true);
    expect(refcount_read(r)).toBe(0);
    expect(spin_is_locked(lock)).toBe(true); // returned holding it
    spin_unlock(lock);
    expect(spin_is_locked(lock)).toBe(false);
    expect(dmesg()).toEqual([]);
  });

  it('refcount_dec_and_lock drops the lock again if another CPU took a reference before it got there', () => {
    const { dmesg, base } = setup();
    const r = base;
    const lock = base + 1;
    spin_lock_init(lock);
    refcount_set(r, 1);
    let raced = 0;
    // refcount_dec_not_one() has seen 1; at spin_lock's preemption point another CPU gets a reference.
    cpuCtx.runner = onPoint(cpuCtx.runner, 'spin_lock', () => {
      if (raced++ === 0) refcount_inc(r);
    });
    expect(refcount_dec_and_lock(r, lock)).toBe(false);
    expect(raced).toBe(1);
    expect(refcount_read(r)).toBe(1);
    expect(Atomics.load(mem.i32, lock)).not.toBe(0); // the slow path did take the lock...
    expect(spin_is_locked(lock)).toBe(false); // ...and released it
    expect(dmesg()).toEqual([]);
  });

  it('refcount_dec_and_lock on a saturated counter returns false without locking', () => {
    const { base } = setup();
    const lock = base + 1;
    spin_lock_init(lock);
    refcount_set(base, REFCOUNT_SATURATED);
    expect(refcount_dec_and_lock(base, lock)).toBe(false);
    expect(refcount_read(base)).toBe(REFCOUNT_SATURATED);
    expect(Atomics.load(mem.i32, lock)).toBe(0);
  });

  it('a refcount on a NULL pointer oopses like the hardware would', () => {
    const { dmesg } = setup();
    expect(() => refcount_inc(0)).toThrow(KernelOops);
    expect(reports(dmesg())[0]).toBe('BUG: kernel NULL pointer dereference, address: 00000000');
  });
});
