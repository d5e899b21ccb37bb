// Three-level page tables like i386 PAE (arch/x86/include/asm/pgtable*.h, include/linux/pgtable.h):
// PGD (4 entries) -> PMD (512) -> PTE (512), 32-bit entries. Table pages come from the page
// allocator; each PTE page carries its split lock in its struct page.

import { spin_lock, spin_lock_init, spin_unlock } from '../kernel/locking/spinlock.js';
import { mem } from '../shm/arena.js';
import { kread, kread_locked, kwrite } from './kasan.js';
import { MM, VM_SHARED, VM_WRITE } from './mm_types.js';
import { clearReapedPtes } from './oom_reaped_ptes.js';
import {
  __free_page,
  __GFP_ZERO,
  alloc_page,
  GFP_KERNEL,
  PAGE,
  PAGE_SHIFT,
  PG_table,
  page_address,
  page_to_pfn,
  pfn_to_frame,
  pfn_to_page,
  virt_to_page,
} from './page_alloc.js';

export const PGDIR_SHIFT = 30;
export const PTRS_PER_PGD = 4;
export const PMD_SHIFT = 21;
export const PTRS_PER_PMD = 512;
export const PTRS_PER_PTE = 512;
export const PMD_SIZE = 2 ** PMD_SHIFT;
export const PGDIR_SIZE = 2 ** PGDIR_SHIFT;
/** A table page, as accounted in mm->pgtables_bytes (512 eight-byte PAE entries). */
export const PTE_TABLE_BYTES = 4096;

export const _PAGE_PRESENT = 0x001;
export const _PAGE_RW = 0x002;
export const _PAGE_USER = 0x004;
export const _PAGE_ACCESSED = 0x020;
export const _PAGE_DIRTY = 0x040;
/** A PMD that maps a 2 MiB page itself (a transparent huge page), not a PTE page. */
export const _PAGE_PSE = 0x080;
export const _PAGE_TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY;

export const pgd_index = (addr: number): number => (addr >>> PGDIR_SHIFT) & (PTRS_PER_PGD - 1);
export const pmd_index = (addr: number): number => (addr >>> PMD_SHIFT) & (PTRS_PER_PMD - 1);
export const pte_index = (addr: number): number => (addr >>> PAGE_SHIFT) & (PTRS_PER_PTE - 1);

export const pte_none = (pte: number): boolean => pte === 0;
export const pte_present = (pte: number): boolean => (pte & _PAGE_PRESENT) !== 0;
export const pte_pfn = (pte: number): number => pte >>> PAGE_SHIFT;
export const pmd_none = (pmd: number): boolean => pmd === 0;
export const pmd_present = (pmd: number): boolean => (pmd & _PAGE_PRESENT) !== 0;
export const pgd_none = (pgd: number): boolean => pgd === 0;
/** arch/x86/include/asm/pgtable.h pmd_trans_huge(): a present huge PMD (no devmap here). */
export const pmd_trans_huge = (pmd: number): boolean => (pmd & _PAGE_PSE) !== 0;
export const pgd_present = (pgd: number): boolean => (pgd & _PAGE_PRESENT) !== 0;

export const pte_write = (pte: number): boolean => (pte & _PAGE_RW) !== 0;
export const pte_wrprotect = (pte: number): number => pte & ~_PAGE_RW;
export const pte_mkwrite = (pte: number): number => pte | _PAGE_RW;
export const pte_mkdirty = (pte: number): number => pte | _PAGE_DIRTY;
export const pte_mkclean = (pte: number): number => pte & ~_PAGE_DIRTY;
export const pte_mkyoung = (pte: number): number => pte | _PAGE_ACCESSED;
export const pte_mkold = (pte: number): number => pte & ~_PAGE_ACCESSED;

/** arch/x86/include/asm/pgtable_types.h _PAGE_CHG_MASK: what pte_modify() keeps. */
const _PAGE_CHG_MASK = ~0xfff | _PAGE_ACCESSED | _PAGE_DIRTY;

// arch/x86/include/asm/pgtable.h pte_modify(): the pfn and A/D bits stay, the rest is newprot.
export function pte_modify(pte: number, newprot: number): number {
  return (pte & _PAGE_CHG_MASK) | (newprot & ~_PAGE_CHG_MASK);
}

/**
 * mm/mmap.c vm_get_page_prot() over x86's protection_map[]: PAGE_SHARED for a shared writable
 * mapping, PAGE_READONLY/PAGE_COPY (present, user, not writable) for the rest. Private writable
 * PTEs get _PAGE_RW from the fault (maybe_mkwrite()), so COW works. PAGE_NONE (_PAGE_PROTNONE) is
 * not modelled: a PROT_NONE mapping's PTEs are read-only and access_error() refuses every fault.
 */
export function vm_get_page_prot(vm_flags: number): number {
  const prot = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;
  return (vm_flags & (VM_SHARED | VM_WRITE)) === (VM_SHARED | VM_WRITE) ? prot | _PAGE_RW : prot;
}

/** A table entry's target, as a struct page. */
export const entry_page = (e: number): number => pfn_to_page(e >>> PAGE_SHIFT);
/** A table entry's target, as a kernel address (the table's first word): page_address(entry_page(e)). */
export const entry_table = (e: number): number => pfn_to_frame(e >>> PAGE_SHIFT);

export function mk_pte(page: number, prot: number): number {
  return (page_to_pfn(page) << PAGE_SHIFT) | prot | 0;
}

// Entry addresses. Walkers read entries with kread(), so a freed table page is a KASAN report.
export function pgd_offset(mm: number, addr: number): number {
  return kread_locked(mm + MM.pgd) + pgd_index(addr); // mm->pgd is fixed for the mm's life
}

export function pmd_offset(pgdval: number, addr: number): number {
  return entry_table(pgdval) + pmd_index(addr);
}

export function pte_offset_map(pmdval: number, addr: number): number {
  return entry_table(pmdval) + pte_index(addr);
}

// include/linux/mm.h pte_lockptr(): the PTE page's own lock (USE_SPLIT_PTE_PTLOCKS)
export function pte_lockptr(pmdval: number): number {
  return entry_page(pmdval) + PAGE.ptl;
}

// include/linux/mm.h pmd_lockptr()/pmd_lock(): the lock a PMD entry changes under. Here it is
// mm->page_table_lock, as in __pte_alloc() below (the kernel's x86 PAE splits it per PMD page).
export function pmd_lock(mm: number): number {
  const ptl = mm + MM.page_table_lock;
  spin_lock(ptl);
  return ptl;
}

/** pte_offset_map_lock(mm, pmd, addr, &ptl): `ptl` comes back in `out`. */
export function pte_offset_map_lock(pmdval: number, addr: number, out: { ptl: number }): number {
  const ptl = pte_lockptr(pmdval);
  spin_lock(ptl);
  out.ptl = ptl;
  return pte_offset_map(pmdval, addr);
}

export function pte_unmap_unlock(ptl: number): void {
  spin_unlock(ptl);
}

function mm_add_pgtables(mm: number, bytes: number): void {
  Atomics.add(mem.i32, mm + MM.pgtables_bytes, bytes);
}

// arch/x86/mm/pgtable.c pgd_alloc()
export function pgd_alloc(_mm: number): number {
  const page = alloc_page(GFP_KERNEL | __GFP_ZERO, 'pgd_alloc');
  if (!page) return 0;
  mem.i32[page + PAGE.flags]! |= PG_table;
  return page_address(page);
}

// arch/x86/mm/pgtable.c pgd_free()
export function pgd_free(pgd: number): void {
  const page = virt_to_page(pgd);
  mem.i32[page + PAGE.flags]! &= ~PG_table;
  __free_page(page, 'pgd_free');
}

function table_alloc(mm: number, site: string): number {
  const page = alloc_page(GFP_KERNEL | __GFP_ZERO, site);
  if (!page) return 0;
  // pgtable_page_ctor()
  spin_lock_init(page + PAGE.ptl, 'ptlock_ptr(page)');
  mem.i32[page + PAGE.flags]! |= PG_table;
  mem.i32[page + PAGE.pt_mm] = mm;
  clearReapedPtes(page_address(page), PTRS_PER_PTE);
  return page;
}

function table_free(page: number, site: string): void {
  // pgtable_page_dtor()
  mem.i32[page + PAGE.flags]! &= ~PG_table;
  mem.i32[page + PAGE.pt_mm] = 0;
  __free_page(page, site);
}

// mm/memory.c __pmd_alloc(): allocate outside the lock, install under page_table_lock.
export function __pmd_alloc(mm: number, pgdp: number): number {
  const page = table_alloc(mm, 'pmd_alloc_one');
  if (!page) return -12;
  spin_lock(mm + MM.page_table_lock);
  let unused = page;
  if (!pgd_present(kread(pgdp))) {
    mm_add_pgtables(mm, PTE_TABLE_BYTES);
    kwrite(pgdp, mk_pte(page, _PAGE_PRESENT));
    unused = 0;
  }
  spin_unlock(mm + MM.page_table_lock);
  if (unused) table_free(unused, 'pmd_free');
  return 0;
}

// mm/memory.c __pte_alloc(): the same for a PTE page (the PMD lock is page_table_lock on PAE).
export function __pte_alloc(mm: number, pmdp: number): number {
  const page = table_alloc(mm, 'pte_alloc_one');
  if (!page) return -12;
  spin_lock(mm + MM.page_table_lock);
  let unused = page;
  if (pmd_none(kread(pmdp))) {
    mm_add_pgtables(mm, PTE_TABLE_BYTES);
    kwrite(pmdp, mk_pte(page, _PAGE_TABLE));
    unused = 0;
  }
  spin_unlock(mm + MM.page_table_lock);
  if (unused) table_free(unused, 'pte_free');
  return 0;
}

// include/linux/mm.h pmd_alloc() (the pud level is folded): 0, or -ENOMEM
export function pmd_alloc(mm: number, pgdp: number): number {
  return pgd_present(kread(pgdp)) ? 0 : __pmd_alloc(mm, pgdp);
}

// include/linux/mm.h pte_alloc(): 0, or -ENOMEM
export function pte_alloc(mm: number, pmdp: number): number {
  return pmd_none(kread(pmdp)) ? __pte_alloc(mm, pmdp) : 0;
}

/** pte_free()/pmd_free(): give a table page back (called from tlb_finish_mmu). */
export function pgtable_free(page: number, site: string): void {
  table_free(page, site);
}

export function mm_dec_pgtables(mm: number): void {
  mm_add_pgtables(mm, -PTE_TABLE_BYTES);
}
