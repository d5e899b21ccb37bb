// mm/kasan's fast path (a region's objects as an array of slots with a state word) against the
// full shadow checks behind it: every word of a slab cache and of the page frames gets the same
// verdict as the slab/page check gives it, live or freed, inside or outside the object.
import { describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { KernelOops } from '../src/cpu/errors.js';
import { spawnTask } from '../src/kernel/fork.js';
import { kasan_check, kasanReports, kread, kread_locked, kwrite } from '../src/mm/kasan.js';
import { VMA } from '../src/mm/mm_types.js';
import { vm_area_cachep } from '../src/mm/mmap.js';
import {
  __GFP_ZERO,
  alloc_page,
  GFP_KERNEL,
  PAGE_WORDS,
  page_address,
  put_page,
} from '../src/mm/page_alloc.js';
import { kmem_cache_alloc, kmem_cache_free } from '../src/mm/slab.js';
import { mem } from '../src/shm/arena.js';
import { boot, reports } from './helpers/boot.js';

function setup(): () => string[] {
  const { dmesg } = boot();
  cpuCtx.current = spawnTask('kasantest');
  return dmesg;
}

/** The KASAN verdict of one checked read of `addr`: null (silent) or the report's bug type. */
function verdict(dmesg: () => string[], addr: number): string | null {
  const before = kasanReports();
  const printed = reports(dmesg()).length;
  kread(addr);
  if (kasanReports() === before) return null;
  // Only the first report of a run is printed; the tests below start a run per bad access.
  return reports(dmesg())[printed]?.replace(/^BUG: KASAN: (\S+) in .*$/, '$1') ?? '?';
}

describe('KASAN fast path: slab objects', () => {
  it('every word of a live object is silent; its slot header and the word past it are slab-out-of-bounds', () => {
    let dmesg = setup();
    const obj = kmem_cache_alloc(vm_area_cachep, 'kasan_test');
    for (let i = 0; i < VMA.SIZE; i++) expect(verdict(dmesg, obj + i)).toBeNull();
    for (const addr of [obj - 1, obj + VMA.SIZE]) {
      dmesg = setup();
      const o = kmem_cache_alloc(vm_area_cachep, 'kasan_test');
      expect(o).toBe(obj); // a fresh kernel hands out the same first slot
      expect(verdict(dmesg, addr)).toBe('slab-out-of-bounds');
    }
  });

  it('a freed object is slab-use-after-free at its first and last word', () => {
    for (const i of [0, VMA.SIZE - 1]) {
      const dmesg = setup();
      const obj = kmem_cache_alloc(vm_area_cachep, 'kasan_test');
      kmem_cache_free(vm_area_cachep, obj, 'kasan_test');
      expect(verdict(dmesg, obj + i)).toBe('slab-use-after-free');
    }
  });

  it('the object reallocated from the quarantine is live again; its neighbour stays freed', () => {
    const dmesg = setup();
    const a = kmem_cache_alloc(vm_area_cachep, 'kasan_test');
    const b = kmem_cache_alloc(vm_area_cachep, 'kasan_test');
    kmem_cache_free(vm_area_cachep, b, 'kasan_test');
    expect(verdict(dmesg, a + VMA.vm_start)).toBeNull();
    expect(verdict(dmesg, b + VMA.vm_start)).toBe('slab-use-after-free');
  });
});

describe('kread_locked (a plain load after the same check)', () => {
  it('returns the word of a live object silently and reports a freed one as kread does', () => {
    const dmesg = setup();
    const obj = kmem_cache_alloc(vm_area_cachep, 'kasan_test');
    kwrite(obj + VMA.vm_flags, 0x73);
    expect(kread_locked(obj + VMA.vm_flags)).toBe(0x73);
    expect(kasanReports()).toBe(0);
    kmem_cache_free(vm_area_cachep, obj, 'kasan_test');
    expect(kread_locked(obj + VMA.vm_flags)).toBe(0x6b6b6b6b);
    expect(kasanReports()).toBe(1);
    expect(reports(dmesg())[0]).toMatch(/^BUG: KASAN: slab-use-after-free in /);
    const at = (obj + VMA.vm_flags).toString(16).padStart(8, '0');
    expect(
      dmesg().some((l) => new RegExp(`^Read of size 4 at addr ${at} by task kasantest/\\d+$`).test(l)),
    ).toBe(true);
  });
});

describe('KASAN fast path: page frames', () => {
  it('every word of an allocated frame is silent; a freed frame is use-after-free', () => {
    let dmesg = setup();
    const page = alloc_page(GFP_KERNEL | __GFP_ZERO, 'kasan_test');
    const f = page_address(page);
    for (let i = 0; i < PAGE_WORDS; i += 37) expect(verdict(dmesg, f + i)).toBeNull();
    expect(verdict(dmesg, f + PAGE_WORDS - 1)).toBeNull();
    put_page(page, 'kasan_test');
    expect(verdict(dmesg, f)).toBe('use-after-free');
    dmesg = setup();
    const again = alloc_page(GFP_KERNEL, 'kasan_test');
    expect(again).toBe(page);
    put_page(again, 'kasan_test');
    expect(verdict(dmesg, f + PAGE_WORDS - 1)).toBe('use-after-free');
  });

  it('a write and a lock-word check of a freed frame are reported too', () => {
    let dmesg = setup();
    const page = alloc_page(GFP_KERNEL, 'kasan_test');
    const f = page_address(page);
    put_page(page, 'kasan_test');
    kwrite(f + 5, 1);
    expect(kasanReports()).toBe(1);
    expect(reports(dmesg())[0]).toMatch(/^BUG: KASAN: use-after-free in /);
    dmesg = setup();
    kasan_check(f + 5, false);
    expect(kasanReports()).toBe(1);
  });
});

describe('KASAN fast path: everything else', () => {
  it('a word of a region without a shadow is silent; the arena header and past its end oops', () => {
    const dmesg = setup();
    const statics = mem.arena.regions.find((r) => r.name.startsWith('data:'))!;
    expect(verdict(dmesg, statics.base)).toBeNull();
    expect(() => kread(255)).toThrow(KernelOops);
    setup();
    expect(() => kread(mem.arena.words)).toThrow(KernelOops);
    setup();
    expect(() => kread(-4)).toThrow(KernelOops);
  });
});
