// The zap walk on the boot CPU: unmap_vmas/unmap_page_range + tlb_finish_mmu unmap and free
// faulted pages; a stale PTE zapped a second time and a garbage non-present PTE are reported by
// print_bad_pte (and the former oopses in the TLB flush's put_page).
import { describe, expect, it } from 'vitest';
import { KernelOops } from '../src/cpu/errors.js';
import { down_read, up_read } from '../src/kernel/locking/rwsem.js';
import { oopsCount } from '../src/kernel/panic.js';
import { hex8 } from '../src/kernel/printk.js';
import { kread, kwrite } from '../src/mm/kasan.js';
import { get_mm_counter, unmap_page_range, unmap_vmas } from '../src/mm/memory.js';
import { MM, MM_ANONPAGES, MM_SWAPENTS } from '../src/mm/mm_types.js';
import { TLB_BATCH, tlb_finish_mmu, tlb_gather_mmu } from '../src/mm/mmu_gather.js';
import {
  nr_free_pages,
  nr_pages,
  PAGE,
  PAGE_POISON,
  page_is_allocated,
  page_ref_count,
  page_to_pfn,
  pfn_to_page,
  put_page,
} from '../src/mm/page_alloc.js';
import {
  PTE_TABLE_BYTES,
  pgd_offset,
  pmd_offset,
  pte_offset_map,
  pte_pfn,
  pte_present,
} from '../src/mm/pgtable.js';
import { page_mapcount } from '../src/mm/rmap.js';
import { mem } from '../src/shm/arena.js';
import { reports } from './helpers/boot.js';
import { exitAll, fault, mmap, newProcess, PAGE_SZ, type Proc } from './helpers/process.js';

const BASE = 0x10000000;

interface ZapProc extends Proc {
  vma: number;
}

/** A fresh kernel, a task "zapper" as current, and one anonymous VMA of `pages` pages at BASE. */
function setup(pages: number): ZapProc {
  const p = newProcess('zapper');
  return { ...p, vma: mmap(p.mm, BASE, pages) };
}

/** pgd_offset -> pmd_offset -> pte_offset_map: the PTE's address and the PMD entry above it. */
function ptep(mm: number, addr: number): { ptep: number; pmdval: number } {
  const pgdval = kread(pgd_offset(mm, addr));
  const pmdval = kread(pmd_offset(pgdval, addr));
  return { ptep: pte_offset_map(pmdval, addr), pmdval };
}

function pageAt(mm: number, addr: number): number {
  const pte = kread(ptep(mm, addr).ptep);
  expect(pte_present(pte)).toBe(true);
  return pfn_to_page(pte_pfn(pte));
}

/** zap_page_range() of [start, end) under mmap_sem held for reading. */
function zap(p: ZapProc, start: number, end: number): void {
  down_read(p.mm + MM.mmap_sem);
  const tlb = tlb_gather_mmu(p.mm, start, end);
  unmap_vmas(tlb, p.vma, start, end);
  tlb_finish_mmu(tlb, start, end);
  up_read(p.mm + MM.mmap_sem);
}

describe('zap', () => {
  it('unmaps every page (mapcount 0), zeroes rss, and frees the pages only in tlb_finish_mmu', () => {
    const p = setup(8);
    const addrs = [0, 1, 2, 5].map((i) => BASE + i * PAGE_SZ);
    for (const a of addrs) fault(p.mm, a);
    const pages = addrs.map((a) => pageAt(p.mm, a));
    expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(4);
    const free0 = nr_free_pages();

    const start = BASE;
    const end = BASE + 8 * PAGE_SZ;
    const tlb = tlb_gather_mmu(p.mm, start, end);
    unmap_vmas(tlb, p.vma, start, end);
    // Unmapped, but still held by the gather until the TLB flush.
    for (const pg of pages) {
      expect(mem.i32[pg + PAGE._mapcount]).toBe(-1);
      expect(page_mapcount(pg)).toBe(0);
      expect(page_ref_count(pg)).toBe(1);
      expect(page_is_allocated(pg)).toBe(true);
    }
    for (const a of addrs) expect(kread(ptep(p.mm, a).ptep)).toBe(0);
    expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(0);
    expect(nr_free_pages()).toBe(free0);
    expect(tlb.pages).toHaveLength(4);

    tlb_finish_mmu(tlb, start, end);
    for (const pg of pages) expect(page_is_allocated(pg)).toBe(false);
    expect(nr_free_pages()).toBe(free0 + 4);
    // The tables stay: only free_pgtables() takes them.
    expect(Atomics.load(mem.i32, p.mm + MM.pgtables_bytes)).toBe(2 * PTE_TABLE_BYTES);
    expect(reports(p.dmesg())).toEqual([]);

    exitAll(p);
    expect(nr_free_pages()).toBe(nr_pages());
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('a zap of part of the VMA leaves the rest mapped', () => {
    const p = setup(4);
    for (let i = 0; i < 4; i++) fault(p.mm, BASE + i * PAGE_SZ);
    const kept = pageAt(p.mm, BASE + 3 * PAGE_SZ);
    zap(p, BASE + PAGE_SZ, BASE + 3 * PAGE_SZ);
    expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(2);
    expect(kread(ptep(p.mm, BASE + PAGE_SZ).ptep)).toBe(0);
    expect(pageAt(p.mm, BASE)).not.toBe(0);
    expect(pageAt(p.mm, BASE + 3 * PAGE_SZ)).toBe(kept);
    expect(page_mapcount(kept)).toBe(1);
    exitAll(p);
    expect(nr_free_pages()).toBe(nr_pages());
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('a zap longer than a TLB batch flushes and frees the first batch inside the walk (force_flush)', () => {
    const n = TLB_BATCH + 6;
    const p = setup(n);
    for (let i = 0; i < n; i++) fault(p.mm, BASE + i * PAGE_SZ);
    const pages = Array.from({ length: n }, (_, i) => pageAt(p.mm, BASE + i * PAGE_SZ));
    const free0 = nr_free_pages();
    const end = BASE + n * PAGE_SZ;
    const tlb = tlb_gather_mmu(p.mm, BASE, end);
    unmap_page_range(tlb, p.vma, BASE, end);
    expect(nr_free_pages()).toBe(free0 + TLB_BATCH);
    expect(tlb.pages).toHaveLength(n - TLB_BATCH);
    for (const pg of pages.slice(0, TLB_BATCH)) expect(page_is_allocated(pg)).toBe(false);
    expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(0);
    tlb_finish_mmu(tlb, BASE, end);
    for (const pg of pages) expect(page_is_allocated(pg)).toBe(false);
    expect(nr_free_pages()).toBe(free0 + n);
    exitAll(p);
    expect(nr_free_pages()).toBe(nr_pages());
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('zapping an already zapped range again is silent (the PTEs are none)', () => {
    const p = setup(2);
    fault(p.mm, BASE);
    zap(p, BASE, BASE + 2 * PAGE_SZ);
    const free1 = nr_free_pages();
    zap(p, BASE, BASE + 2 * PAGE_SZ);
    expect(nr_free_pages()).toBe(free1);
    expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(0);
    exitAll(p);
    expect(nr_free_pages()).toBe(nr_pages());
    expect(oopsCount()).toBe(0);
    expect(reports(p.dmesg())).toEqual([]);
  });
});

describe('double zap of a stale PTE', () => {
  it('prints "Bad page map" (mapcount below zero), then put_page on a zero refcount oopses', () => {
    const p = setup(2);
    fault(p.mm, BASE);
    const { ptep: pte, pmdval } = ptep(p.mm, BASE);
    const saved = kread(pte);
    const page = pageAt(p.mm, BASE);
    zap(p, BASE, BASE + 2 * PAGE_SZ);
    expect(page_is_allocated(page)).toBe(false);
    expect(page_ref_count(page)).toBe(0);
    expect(reports(p.dmesg())).toEqual([]);

    // The bug: a stale copy of the PTE goes back into the live table.
    kwrite(pte, saved);
    const tlb = tlb_gather_mmu(p.mm, BASE, BASE + 2 * PAGE_SZ);
    unmap_vmas(tlb, p.vma, BASE, BASE + 2 * PAGE_SZ);
    const bad = `BUG: Bad page map in process zapper  pte:${hex8(saved)} pmd:${hex8(pmdval)}`;
    expect(reports(p.dmesg())).toEqual([bad]);
    expect(p.dmesg()).toContain('page dumped because: bad pte');
    expect(page_mapcount(page)).toBe(-1);
    expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(-1);

    // tlb_flush_mmu_free() -> put_page(): VM_BUG_ON_PAGE(page_ref_count(page) == 0).
    let thrown: unknown;
    try {
      tlb_finish_mmu(tlb, BASE, BASE + 2 * PAGE_SZ);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(KernelOops);
    expect((thrown as KernelOops).summary).toBe('kernel BUG at include/linux/mm.h:put_page_testzero!');
    const lines = p.dmesg();
    expect(lines).toContain('page dumped because: VM_BUG_ON_PAGE(page_ref_count(page) == 0)');
    expect(lines.some((l) => /^invalid opcode: 0000 \[#1\]/.test(l))).toBe(true);
    expect(reports(lines)).toEqual([bad, 'kernel BUG at include/linux/mm.h:put_page_testzero!']);
    expect(oopsCount()).toBe(1);
  });
});

describe('put_page on a freed page', () => {
  it('oopses in VM_BUG_ON_PAGE (KernelOops), a report and not silence', () => {
    const p = setup(1);
    fault(p.mm, BASE);
    const page = pageAt(p.mm, BASE);
    zap(p, BASE, BASE + PAGE_SZ);
    expect(page_ref_count(page)).toBe(0);
    expect(() => put_page(page)).toThrow(KernelOops);
    expect(reports(p.dmesg())).toEqual(['kernel BUG at include/linux/mm.h:put_page_testzero!']);
  });

  // include/linux/mm.h put_page_testzero() checks VM_BUG_ON_PAGE(page_ref_count(page) == 0, page)
  // before page_ref_dec_and_test(): the dump shows refcount:0 and the count stays at 0.
  it('dumps the page before the decrement: refcount:0, and leaves the count at 0', () => {
    const p = setup(1);
    fault(p.mm, BASE);
    const page = pageAt(p.mm, BASE);
    zap(p, BASE, BASE + PAGE_SZ);
    expect(() => put_page(page)).toThrow(KernelOops);
    expect(p.dmesg()).toContain(
      `page:${hex8(page)} refcount:0 mapcount:0 mapping:00000000 index:0x${(BASE >>> 12).toString(16)} pfn:0x${page_to_pfn(page).toString(16)}`,
    );
    expect(page_ref_count(page)).toBe(0);
  });
});

describe('garbage non-present PTE', () => {
  it('PAGE_POISON in a live table is a bad swap entry: reported, cleared, MM_SWAPENTS goes negative', () => {
    const p = setup(4);
    fault(p.mm, BASE);
    const { ptep: pte, pmdval } = ptep(p.mm, BASE + PAGE_SZ);
    expect(PAGE_POISON >>> 0).toBe(0xaaaaaaaa);
    kwrite(pte, PAGE_POISON);
    zap(p, BASE, BASE + 4 * PAGE_SZ);
    const lines = p.dmesg();
    expect(lines.some((l) => /^swap_info_get: Bad swap file entry [0-9a-f]{8}$/.test(l))).toBe(true);
    expect(reports(lines)).toEqual([`BUG: Bad page map in process zapper  pte:aaaaaaaa pmd:${hex8(pmdval)}`]);
    expect(kread(pte)).toBe(0);
    expect(get_mm_counter(p.mm, MM_SWAPENTS)).toBe(-1);
    expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(0);
    // check_mm sees the damage when the mm goes.
    exitAll(p);
    expect(reports(p.dmesg())).toContain(
      `BUG: Bad rss-counter state mm:${hex8(p.mm)} idx:2 val:-1`, // v4.15: by index, 2 = MM_SWAPENTS
    );
    expect(nr_free_pages()).toBe(nr_pages());
  });

  it('a clean table has no swap entries: no swap_info_get line, MM_SWAPENTS stays 0', () => {
    const p = setup(4);
    fault(p.mm, BASE);
    fault(p.mm, BASE + 2 * PAGE_SZ);
    zap(p, BASE, BASE + 4 * PAGE_SZ);
    expect(p.dmesg().some((l) => l.startsWith('swap_info_get'))).toBe(false);
    expect(get_mm_counter(p.mm, MM_SWAPENTS)).toBe(0);
    exitAll(p);
    expect(reports(p.dmesg())).toEqual([]);
  });
});
