// Page tables on the boot CPU: an anonymous fault allocates the PMD and PTE pages from the page
// allocator and maps a fresh page; exit (mmput + mmdrop) gives every page back. free_pgd_range's
// floor/ceiling keep a table that a neighbouring VMA still uses.
import { describe, expect, it } from 'vitest';
import { mm_cachep, mmdrop, mmgrab } from '../src/kernel/fork.js';
import { __do_page_fault } from '../src/mm/fault.js';
import { kread } from '../src/mm/kasan.js';
import {
  FAULT_FLAG_WRITE,
  free_pgd_range,
  get_mm_counter,
  unmap_vmas,
  VM_FAULT_OOM,
  VM_FAULT_SIGSEGV,
} from '../src/mm/memory.js';
import { MM, MM_ANONPAGES, VMA } from '../src/mm/mm_types.js';
import { remove_vma_list, vm_area_cachep } from '../src/mm/mmap.js';
import { tlb_finish_mmu, tlb_gather_mmu } from '../src/mm/mmu_gather.js';
import {
  __free_page,
  alloc_page,
  GFP_KERNEL,
  nr_free_pages,
  nr_pages,
  PAGE,
  PG_anon,
  PG_table,
  page_is_allocated,
  page_ref_count,
  pfn_to_page,
} from '../src/mm/page_alloc.js';
import {
  _PAGE_PRESENT,
  _PAGE_RW,
  entry_page,
  PMD_SIZE,
  PTE_TABLE_BYTES,
  pgd_offset,
  pgd_present,
  pmd_none,
  pmd_offset,
  pte_offset_map,
  pte_pfn,
  pte_present,
} from '../src/mm/pgtable.js';
import { page_mapcount } from '../src/mm/rmap.js';
import { kmem_cache_live, slab_is_live } from '../src/mm/slab.js';
import { detach_vmas_to_be_unmapped, detached_destroy, vma_before, vma_end } from '../src/mm/vma_list.js';
import { mem } from '../src/shm/arena.js';
import { reports } from './helpers/boot.js';
import { exitAll, fault, mmap, newProcess, PAGE_SZ, type Proc } from './helpers/process.js';

/** A fresh kernel and a task "pt" whose mm is empty; the task is current. */
const setup = (era = 'v4.15'): Proc => newProcess('pt', era);

/** The page-table walk for `addr`: entry values and the mapped page (0 when absent). */
function walk(mm: number, addr: number): { pgdval: number; pmdval: number; pte: number; page: number } {
  const pgdval = kread(pgd_offset(mm, addr));
  if (!pgd_present(pgdval)) return { pgdval, pmdval: 0, pte: 0, page: 0 };
  const pmdval = kread(pmd_offset(pgdval, addr));
  if (pmd_none(pmdval)) return { pgdval, pmdval, pte: 0, page: 0 };
  const pte = kread(pte_offset_map(pmdval, addr));
  return { pgdval, pmdval, pte, page: pte_present(pte) ? pfn_to_page(pte_pfn(pte)) : 0 };
}

const pgtablesBytes = (mm: number): number => Atomics.load(mem.i32, mm + MM.pgtables_bytes);
const used = (): number => nr_pages() - nr_free_pages();

describe('anonymous fault', () => {
  it('allocates a PMD page, a PTE page and the data page, and maps the page once', () => {
    const p = setup();
    const addr = 0x10000000;
    const vma = mmap(p.mm, addr, 16);
    const free0 = nr_free_pages();
    expect(pgtablesBytes(p.mm)).toBe(0);
    expect(walk(p.mm, addr).pgdval).toBe(0);

    fault(p.mm, addr + 5 * PAGE_SZ);
    expect(free0 - nr_free_pages()).toBe(3); // PMD + PTE + data
    expect(pgtablesBytes(p.mm)).toBe(2 * PTE_TABLE_BYTES);

    const w = walk(p.mm, addr + 5 * PAGE_SZ);
    expect(pgd_present(w.pgdval)).toBe(true);
    const pmdPage = entry_page(w.pgdval);
    const ptePage = entry_page(w.pmdval);
    for (const table of [pmdPage, ptePage]) {
      expect(page_is_allocated(table)).toBe(true);
      expect(mem.i32[table + PAGE.flags]! & PG_table).toBe(PG_table);
    }
    expect(mem.i32[ptePage + PAGE.pt_mm]).toBe(p.mm);
    expect(w.pte & (_PAGE_PRESENT | _PAGE_RW)).toBe(_PAGE_PRESENT | _PAGE_RW);
    const page = w.page;
    expect(page).not.toBe(0);
    expect(page_is_allocated(page)).toBe(true);
    expect(mem.i32[page + PAGE._mapcount]).toBe(0);
    expect(page_mapcount(page)).toBe(1);
    expect(page_ref_count(page)).toBe(1);
    expect(mem.i32[page + PAGE.flags]! & PG_anon).toBe(PG_anon);
    expect(mem.i32[page + PAGE.mapping]).toBe(vma);
    expect(mem.i32[page + PAGE.index]).toBe((addr >>> 12) + 5);
    expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(1);
    // The neighbouring PTE is still empty.
    expect(walk(p.mm, addr + 4 * PAGE_SZ).pte).toBe(0);

    exitAll(p);
    expect(nr_free_pages()).toBe(nr_pages());
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('faulting the same address twice allocates nothing the second time', () => {
    const p = setup();
    const addr = 0x10000000;
    mmap(p.mm, addr, 4);
    fault(p.mm, addr);
    const free1 = nr_free_pages();
    const before = walk(p.mm, addr);
    fault(p.mm, addr + 123 * 4); // same page, another word
    fault(p.mm, addr);
    expect(nr_free_pages()).toBe(free1);
    expect(pgtablesBytes(p.mm)).toBe(2 * PTE_TABLE_BYTES);
    expect(walk(p.mm, addr)).toEqual(before);
    expect(page_ref_count(before.page)).toBe(1);
    expect(page_mapcount(before.page)).toBe(1);
    expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(1);
    exitAll(p);
    expect(nr_free_pages()).toBe(nr_pages());
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('a fault on an already mapped page succeeds without memory (no allocation at all)', () => {
    const p = setup();
    mmap(p.mm, 0x10000000, 2);
    fault(p.mm, 0x10000000);
    const hog: number[] = [];
    for (let pg = alloc_page(GFP_KERNEL, 'hog'); pg; pg = alloc_page(GFP_KERNEL, 'hog')) hog.push(pg);
    expect(nr_free_pages()).toBe(0);
    fault(p.mm, 0x10000000);
    // An unmapped page needs memory: with none left the fault is VM_FAULT_OOM.
    expect(__do_page_fault(p.mm, 0x10001000, FAULT_FLAG_WRITE)).toBe(VM_FAULT_OOM);
    for (const pg of hog) __free_page(pg, 'hog');
    exitAll(p);
    expect(nr_free_pages()).toBe(nr_pages());
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('costs one page in a populated PTE table, a PTE page more in a new 2 MiB, a PMD page more in a new 1 GiB', () => {
    const p = setup();
    mmap(p.mm, 0x10000000, 1024); // 4 MiB: two PTE tables
    mmap(p.mm, 0x50000000, 4); // another PGD slot
    fault(p.mm, 0x10000000);
    let free = nr_free_pages();
    fault(p.mm, 0x10001000);
    expect(free - nr_free_pages()).toBe(1);
    free = nr_free_pages();
    fault(p.mm, 0x10000000 + PMD_SIZE);
    expect(free - nr_free_pages()).toBe(2);
    free = nr_free_pages();
    fault(p.mm, 0x50000000);
    expect(free - nr_free_pages()).toBe(3);
    // pgd (not accounted) + 2 PMD + 3 PTE tables + 4 data pages
    expect(pgtablesBytes(p.mm)).toBe(5 * PTE_TABLE_BYTES);
    expect(used()).toBe(1 + 5 + 4);
    expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(4);
    exitAll(p);
    expect(nr_free_pages()).toBe(nr_pages());
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('a fault outside every VMA is SIGSEGV and allocates nothing', () => {
    const p = setup();
    mmap(p.mm, 0x10000000, 4);
    const free0 = nr_free_pages();
    expect(__do_page_fault(p.mm, 0x20000000, FAULT_FLAG_WRITE)).toBe(VM_FAULT_SIGSEGV);
    expect(__do_page_fault(p.mm, 0x0fff0000, FAULT_FLAG_WRITE)).toBe(VM_FAULT_SIGSEGV);
    expect(nr_free_pages()).toBe(free0);
    exitAll(p);
    expect(reports(p.dmesg())).toEqual([]);
  });
});

describe.each(['v4.14', 'v4.15'])('exit teardown (%s)', (era) => {
  it('mmput of the last user frees tables, pages and VMAs; the last mmdrop frees the pgd and the mm', () => {
    const p = setup(era);
    const a = 0x10000000;
    mmap(p.mm, a, 8);
    for (let i = 0; i < 8; i++) fault(p.mm, a + i * PAGE_SZ);
    expect(used()).toBe(1 + 2 + 8);
    // A lazy-TLB style mm_count reference outlives the address space.
    mmgrab(p.mm);
    exitAll(p);
    expect(used()).toBe(1); // only the pgd, freed by __mmdrop
    expect(kmem_cache_live(vm_area_cachep)).toBe(0);
    expect(slab_is_live(mm_cachep, p.mm)).toBe(true);
    expect(pgtablesBytes(p.mm)).toBe(0);
    expect(get_mm_counter(p.mm, MM_ANONPAGES)).toBe(0);
    mmdrop(p.mm);
    expect(nr_free_pages()).toBe(nr_pages());
    expect(slab_is_live(mm_cachep, p.mm)).toBe(false);
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('two VMAs in the same 1 GiB PGD slot: the shared PMD page is freed once, after both', () => {
    const p = setup(era);
    mmap(p.mm, 0x10000000, 2);
    mmap(p.mm, 0x20000000, 2);
    fault(p.mm, 0x10000000);
    fault(p.mm, 0x20001000);
    const w1 = walk(p.mm, 0x10000000);
    const w2 = walk(p.mm, 0x20001000);
    expect(w1.pgdval).toBe(w2.pgdval);
    const tables = [entry_page(w1.pgdval), entry_page(w1.pmdval), entry_page(w2.pmdval)];
    expect(new Set(tables).size).toBe(3);
    expect(pgtablesBytes(p.mm)).toBe(3 * PTE_TABLE_BYTES);
    exitAll(p);
    for (const t of [...tables, w1.page, w2.page]) expect(page_is_allocated(t)).toBe(false);
    expect(nr_free_pages()).toBe(nr_pages());
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('two VMAs in different PGD slots: each PMD page is freed', () => {
    const p = setup(era);
    mmap(p.mm, 0x10000000, 2);
    mmap(p.mm, 0x50000000, 2);
    fault(p.mm, 0x10000000);
    fault(p.mm, 0x50000000);
    const w1 = walk(p.mm, 0x10000000);
    const w2 = walk(p.mm, 0x50000000);
    expect(w1.pgdval).not.toBe(w2.pgdval);
    const tables = [
      entry_page(w1.pgdval),
      entry_page(w1.pmdval),
      entry_page(w2.pgdval),
      entry_page(w2.pmdval),
    ];
    expect(new Set(tables).size).toBe(4);
    exitAll(p);
    for (const t of tables) expect(page_is_allocated(t)).toBe(false);
    expect(nr_free_pages()).toBe(nr_pages());
    expect(reports(p.dmesg())).toEqual([]);
  });
});

describe('free_pgd_range floor and ceiling', () => {
  // The gather's table list is where these tests look: tlb_remove_page()'s way (CONFIG_PARAVIRT=n).
  // With HAVE_RCU_TABLE_FREE the tables of a single-user mm are freed at once (rcu_table_free.test.ts).
  const NO_RCU_TABLE_FREE = 'v4.15+PARAVIRT=n';

  /** munmap() of `vma` reduced to its page-table part, with the neighbours as floor and ceiling. */
  function unmapOne(mm: number, vma: number, floor: number, ceiling: number): number[] {
    const start = kread(vma + VMA.vm_start) >>> 0;
    const end = kread(vma + VMA.vm_end) >>> 0;
    const tlb = tlb_gather_mmu(mm, start, end);
    unmap_vmas(tlb, vma, start, end);
    free_pgd_range(tlb, start, end, floor, ceiling);
    const freed = [...tlb.tables];
    tlb_finish_mmu(tlb, start, end);
    return freed;
  }

  /** Takes `vma` out of the mm's VMA container and frees it (detach_vmas_to_be_unmapped + remove_vma). */
  function detach(mm: number, vma: number): void {
    const mt = detach_vmas_to_be_unmapped(mm, vma, vma_before(mm, vma), vma_end(vma));
    remove_vma_list(mm, vma, mt);
    detached_destroy(mt);
  }

  it('the ceiling (next VMA start) keeps a PTE table that the next VMA shares', () => {
    const p = setup(NO_RCU_TABLE_FREE);
    const a = mmap(p.mm, 0x10000000, 1);
    mmap(p.mm, 0x10010000, 1);
    fault(p.mm, 0x10000000);
    fault(p.mm, 0x10010000);
    const wb = walk(p.mm, 0x10010000);
    expect(walk(p.mm, 0x10000000).pmdval).toBe(wb.pmdval);
    const freed = unmapOne(p.mm, a, 0, 0x10010000);
    expect(freed).toEqual([]);
    expect(walk(p.mm, 0x10000000).pte).toBe(0);
    expect(walk(p.mm, 0x10010000)).toEqual(wb);
    expect(page_mapcount(wb.page)).toBe(1);
    detach(p.mm, a);
    exitAll(p);
    expect(nr_free_pages()).toBe(nr_pages());
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('the floor (previous VMA end) keeps a PTE table that the previous VMA shares', () => {
    const p = setup(NO_RCU_TABLE_FREE);
    mmap(p.mm, 0x10000000, 1);
    const b = mmap(p.mm, 0x10010000, 1);
    fault(p.mm, 0x10000000);
    fault(p.mm, 0x10010000);
    const wa = walk(p.mm, 0x10000000);
    const freed = unmapOne(p.mm, b, 0x10001000, 0);
    expect(freed).toEqual([]);
    expect(walk(p.mm, 0x10010000).pte).toBe(0);
    expect(walk(p.mm, 0x10000000)).toEqual(wa);
    detach(p.mm, b);
    exitAll(p);
    expect(nr_free_pages()).toBe(nr_pages());
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('frees the own PTE table but keeps the PMD page when the ceiling is in the same 1 GiB slot', () => {
    const p = setup(NO_RCU_TABLE_FREE);
    const a = mmap(p.mm, 0x10000000, 1);
    mmap(p.mm, 0x10400000, 1);
    fault(p.mm, 0x10000000);
    fault(p.mm, 0x10400000);
    const wa = walk(p.mm, 0x10000000);
    const wb = walk(p.mm, 0x10400000);
    expect(wa.pmdval).not.toBe(wb.pmdval);
    const bytes = pgtablesBytes(p.mm);
    const freed = unmapOne(p.mm, a, 0, 0x10400000);
    expect(freed).toEqual([entry_page(wa.pmdval)]);
    expect(page_is_allocated(entry_page(wa.pmdval))).toBe(false);
    expect(page_is_allocated(entry_page(wa.pgdval))).toBe(true);
    expect(pgtablesBytes(p.mm)).toBe(bytes - PTE_TABLE_BYTES);
    expect(walk(p.mm, 0x10000000).pmdval).toBe(0);
    expect(walk(p.mm, 0x10400000)).toEqual(wb);
    detach(p.mm, a);
    exitAll(p);
    expect(nr_free_pages()).toBe(nr_pages());
    expect(reports(p.dmesg())).toEqual([]);
  });

  it('frees the PTE table and the PMD page when nothing else lives in the 1 GiB slot', () => {
    const p = setup(NO_RCU_TABLE_FREE);
    const a = mmap(p.mm, 0x10000000, 1);
    mmap(p.mm, 0x50000000, 1);
    fault(p.mm, 0x10000000);
    fault(p.mm, 0x50000000);
    const wa = walk(p.mm, 0x10000000);
    const freed = unmapOne(p.mm, a, 0, 0x50000000);
    expect(new Set(freed)).toEqual(new Set([entry_page(wa.pmdval), entry_page(wa.pgdval)]));
    expect(walk(p.mm, 0x10000000).pgdval).toBe(0);
    expect(pgd_present(walk(p.mm, 0x50000000).pgdval)).toBe(true);
    detach(p.mm, a);
    exitAll(p);
    expect(nr_free_pages()).toBe(nr_pages());
    expect(reports(p.dmesg())).toEqual([]);
  });
});
