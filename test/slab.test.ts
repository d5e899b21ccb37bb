// mm/slab + mm/kasan on the boot CPU: allocation zeroes, free poisons, and a checked access to a
// freed object is a KASAN report with the allocation and free sites. Only caches created at module
// load are used (vm_area_cachep): a cache is part of the machine's layout.
import { describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { KernelOops } from '../src/cpu/errors.js';
import { spawnTask } from '../src/kernel/fork.js';
import { spin_lock, spin_lock_init, spin_unlock } from '../src/kernel/locking/spinlock.js';
import { oopsCount } from '../src/kernel/panic.js';
import { hex8 } from '../src/kernel/printk.js';
import { task_pid } from '../src/kernel/task_struct.js';
import { kasanReports, kread, kwrite } from '../src/mm/kasan.js';
import { vma_next, vma_start } from '../src/mm/memory.js';
import { VMA } from '../src/mm/mm_types.js';
import { vm_area_cachep } from '../src/mm/mmap.js';
import {
  kmem_cache_alloc,
  kmem_cache_free,
  kmem_cache_live,
  POISON_FREE,
  slab_is_live,
} from '../src/mm/slab.js';
import { mem } from '../src/shm/arena.js';
import { boot, reports } from './helpers/boot.js';

const ALLOC_SITE = 'slab_test_alloc';
const FREE_SITE = 'slab_test_free';

/** A fresh kernel with a task as current (KASAN names current in its report). */
function setup(): { dmesg: () => string[]; task: number } {
  const { dmesg } = boot();
  const task = spawnTask('slabtest');
  cpuCtx.current = task;
  return { dmesg, task };
}

/** The object's words, read raw (no KASAN check). */
function raw(obj: number): number[] {
  return Array.from(mem.i32.subarray(obj, obj + VMA.SIZE));
}

function freedObject(): number {
  const obj = kmem_cache_alloc(vm_area_cachep, ALLOC_SITE);
  expect(obj).not.toBe(0);
  kmem_cache_free(vm_area_cachep, obj, FREE_SITE);
  return obj;
}

/** The line after `header` (a track's site line). */
function lineAfter(lines: string[], header: RegExp): string | undefined {
  const i = lines.findIndex((l) => header.test(l));
  return i < 0 ? undefined : lines[i + 1];
}

describe('kmem_cache_alloc', () => {
  it('returns a zeroed object even when the slot held data before the cache was reset', () => {
    setup();
    const first = kmem_cache_alloc(vm_area_cachep, ALLOC_SITE);
    for (let w = 0; w < VMA.SIZE; w++) kwrite(first + w, 0x1234 + w);
    // A new run: the cache is reset (slots go back on the free list, their words are not cleared).
    const { dmesg } = setup();
    const again = kmem_cache_alloc(vm_area_cachep, ALLOC_SITE);
    expect(again).toBe(first);
    expect(raw(again)).toEqual(new Array(VMA.SIZE).fill(0));
    expect(slab_is_live(vm_area_cachep, again)).toBe(true);
    expect(reports(dmesg())).toEqual([]);
  });

  it('returns a zeroed object when it recycles a poisoned, quarantined one', () => {
    const { dmesg } = setup();
    const obj = kmem_cache_alloc(vm_area_cachep, ALLOC_SITE);
    for (let w = 0; w < VMA.SIZE; w++) kwrite(obj + w, -1);
    kmem_cache_free(vm_area_cachep, obj, FREE_SITE);
    // Use up every never-used object: the next allocation must take the quarantined one.
    for (let i = 1; i < vm_area_cachep.objects; i++) {
      expect(kmem_cache_alloc(vm_area_cachep, ALLOC_SITE)).not.toBe(0);
    }
    expect(raw(obj)).toEqual(new Array(VMA.SIZE).fill(POISON_FREE));
    const recycled = kmem_cache_alloc(vm_area_cachep, ALLOC_SITE);
    expect(recycled).toBe(obj);
    expect(raw(recycled)).toEqual(new Array(VMA.SIZE).fill(0));
    expect(kmem_cache_live(vm_area_cachep)).toBe(vm_area_cachep.objects);
    // The cache is now exhausted: no object left, not even in quarantine.
    expect(kmem_cache_alloc(vm_area_cachep, ALLOC_SITE)).toBe(0);
    expect(reports(dmesg())).toEqual([]);
  });
});

describe('kmem_cache_free', () => {
  it('poisons the object with POISON_FREE (0x6b6b6b6b) and marks it not live', () => {
    const { dmesg } = setup();
    const obj = kmem_cache_alloc(vm_area_cachep, ALLOC_SITE);
    kwrite(obj + VMA.vm_start, 0x10000000);
    expect(kmem_cache_live(vm_area_cachep)).toBe(1);
    kmem_cache_free(vm_area_cachep, obj, FREE_SITE);
    expect(POISON_FREE).toBe(0x6b6b6b6b);
    expect(raw(obj)).toEqual(new Array(VMA.SIZE).fill(0x6b6b6b6b));
    expect(slab_is_live(vm_area_cachep, obj)).toBe(false);
    expect(kmem_cache_live(vm_area_cachep)).toBe(0);
    expect(reports(dmesg())).toEqual([]);
  });
});

describe('KASAN', () => {
  it('is silent for reads and writes of every word of a live object', () => {
    const { dmesg } = setup();
    const obj = kmem_cache_alloc(vm_area_cachep, ALLOC_SITE);
    for (let w = 0; w < VMA.SIZE; w++) {
      kwrite(obj + w, w + 1);
      expect(kread(obj + w)).toBe(w + 1);
    }
    expect(vma_start(obj)).toBe(1);
    expect(kasanReports()).toBe(0);
    expect(dmesg()).toEqual([]);
  });

  it('reports a read of a freed object as slab-use-after-free, with both sites and the cache', () => {
    const { dmesg, task } = setup();
    const obj = freedObject();
    // A kernel function reads the freed VMA: KASAN names it, and the access still happens.
    expect(vma_start(obj)).toBe(POISON_FREE);
    const lines = dmesg();
    expect(lines).toContain('BUG: KASAN: slab-use-after-free in vma_start');
    expect(lines).toContain(
      `Read of size 4 at addr ${hex8(obj + VMA.vm_start)} by task slabtest/${task_pid(task)}`,
    );
    expect(lineAfter(lines, /^Allocated by task \d+/)).toBe(` ${ALLOC_SITE}`);
    expect(lineAfter(lines, /^Freed by task \d+/)).toBe(` ${FREE_SITE}`);
    expect(lines).toContain(` which belongs to the cache vm_area_struct of size ${VMA.SIZE * 4}`);
    expect(lines.some((l) => l.startsWith('Write of size'))).toBe(false);
    expect(reports(lines)).toEqual(['BUG: KASAN: slab-use-after-free in vma_start']);
    expect(kasanReports()).toBe(1);
  });

  it('reports a write to a freed object as "Write of size 4"', () => {
    const { dmesg } = setup();
    const obj = freedObject();
    kwrite(obj + VMA.vm_flags, 0x3);
    const lines = dmesg();
    // Called from outside kernel code, so there is no kernel frame to name.
    expect(lines.some((l) => l.startsWith('BUG: KASAN: slab-use-after-free in '))).toBe(true);
    expect(
      lines.some((l) =>
        l.startsWith(`Write of size 4 at addr ${hex8(obj + VMA.vm_flags)} by task slabtest/`),
      ),
    ).toBe(true);
    expect(lines.some((l) => l.startsWith('Read of size'))).toBe(false);
    expect(lineAfter(lines, /^Freed by task \d+/)).toBe(` ${FREE_SITE}`);
    expect(kasanReports()).toBe(1);
  });

  it('reports a double free, keeps the first free site and ignores the second free', () => {
    const { dmesg } = setup();
    const obj = freedObject();
    const live = kmem_cache_live(vm_area_cachep);
    kmem_cache_free(vm_area_cachep, obj, 'slab_test_second_free');
    const lines = dmesg();
    expect(reports(lines)).toEqual(['BUG: KASAN: double-free in kmem_cache_free']);
    expect(lines.some((l) => l.startsWith(`Free of addr ${hex8(obj)} by task slabtest/`))).toBe(true);
    expect(lineAfter(lines, /^Allocated by task \d+/)).toBe(` ${ALLOC_SITE}`);
    expect(lineAfter(lines, /^Freed by task \d+/)).toBe(` ${FREE_SITE}`);
    expect(kmem_cache_live(vm_area_cachep)).toBe(live);
    expect(kasanReports()).toBe(1);
  });

  it('is silent for one alloc/free pair (no double free)', () => {
    const { dmesg } = setup();
    freedObject();
    freedObject();
    expect(kasanReports()).toBe(0);
    expect(dmesg()).toEqual([]);
  });

  // Linux __kasan_slab_free(): a pointer that is not the start of an object
  // (nearest_obj(cache, page, object) != object) goes to kasan_report_invalid_free().
  it('reports an invalid free of a pointer into the middle of an object, and leaves the object live', () => {
    const { dmesg } = setup();
    const obj = kmem_cache_alloc(vm_area_cachep, ALLOC_SITE);
    kmem_cache_free(vm_area_cachep, obj + 1, FREE_SITE);
    expect(reports(dmesg()).some((l) => l.startsWith('BUG: KASAN: invalid-free'))).toBe(true);
    expect(slab_is_live(vm_area_cachep, obj)).toBe(true);
  });

  it('reports a read past the end of a live object as slab-out-of-bounds, and the last word is fine', () => {
    const { dmesg } = setup();
    const obj = kmem_cache_alloc(vm_area_cachep, ALLOC_SITE);
    kread(obj + VMA.SIZE - 1);
    expect(kasanReports()).toBe(0);
    kread(obj + VMA.SIZE);
    expect(kasanReports()).toBe(1);
    expect(reports(dmesg())[0]).toMatch(/^BUG: KASAN: slab-out-of-bounds in /);
  });

  it('prints only the first bad access of a run, but counts every one', () => {
    const { dmesg } = setup();
    const a = freedObject();
    const b = freedObject();
    vma_start(a);
    expect(kasanReports()).toBe(1);
    const after1 = dmesg().length;
    vma_start(b);
    kwrite(a + VMA.vm_end, 0);
    expect(kasanReports()).toBe(3);
    expect(dmesg().length).toBe(after1);
    expect(reports(dmesg())).toEqual(['BUG: KASAN: slab-use-after-free in vma_start']);
    // A new run reports again.
    const next = setup();
    vma_start(freedObject());
    expect(kasanReports()).toBe(1);
    expect(reports(next.dmesg())).toEqual(['BUG: KASAN: slab-use-after-free in vma_start']);
  });

  it('oopses on a wild pointer: kread(0x6b6b6b6b) throws KernelOops after "unable to handle page fault"', () => {
    const { dmesg } = setup();
    expect(() => kread(0x6b6b6b6b)).toThrow(KernelOops);
    const lines = dmesg();
    expect(lines).toContain('BUG: unable to handle page fault for address: 6b6b6b6b');
    expect(lines.some((l) => l.startsWith('Oops:'))).toBe(true);
    expect(oopsCount()).toBe(1);
  });

  it('reports, then oopses, when a poisoned pointer loaded from a freed VMA is followed', () => {
    const { dmesg } = setup();
    const vma = freedObject();
    const next = vma_next(vma); // UAF read: vm_next is poison now
    expect(next).toBe(POISON_FREE);
    let thrown: unknown;
    try {
      vma_start(next);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(KernelOops);
    expect((thrown as KernelOops).summary).toMatch(/^BUG: unable to handle page fault for address: 6b6b6b6b/);
    const r = reports(dmesg());
    expect(r[0]).toBe('BUG: KASAN: slab-use-after-free in vma_next');
    expect(r).toContain('BUG: unable to handle page fault for address: 6b6b6b6b');
    expect(dmesg().some((l) => l.startsWith('Oops:'))).toBe(true);
  });

  it('oopses on a NULL dereference with the NULL-pointer message', () => {
    const { dmesg } = setup();
    expect(() => kread(0 + VMA.vm_next)).toThrow(KernelOops);
    expect(dmesg()).toContain(`BUG: kernel NULL pointer dereference, address: ${hex8(VMA.vm_next)}`);
  });

  it('does not oops on a valid pointer', () => {
    const { dmesg } = setup();
    const obj = kmem_cache_alloc(vm_area_cachep, ALLOC_SITE);
    expect(() => kread(obj)).not.toThrow();
    expect(oopsCount()).toBe(0);
    expect(dmesg()).toEqual([]);
  });
});

describe('KASAN on lock words', () => {
  it('a spinlock in a freed object is a use-after-free report; in a live object, silence', () => {
    const { dmesg } = boot();
    cpuCtx.current = spawnTask('locker');
    const live = kmem_cache_alloc(vm_area_cachep, 'vm_area_alloc');
    spin_lock_init(live + VMA.vm_lock_seq);
    spin_lock(live + VMA.vm_lock_seq);
    spin_unlock(live + VMA.vm_lock_seq);
    expect(reports(dmesg())).toEqual([]);
    kmem_cache_free(vm_area_cachep, live, 'vm_area_free');
    spin_lock(live + VMA.vm_lock_seq); // the lifetime bug: the lock's memory is already freed
    expect(reports(dmesg())[0]).toBe('BUG: KASAN: slab-use-after-free in spin_lock');
  });
});
