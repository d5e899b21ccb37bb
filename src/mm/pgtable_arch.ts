// The two arch page-table helpers on which the C1 crash (CVE-2018-1000200) depends: what
// follow_page_pte() does with a PMD that the OOM reaper cleared after follow_pmd_mask() tested it.
// The machine is x86 PAE in every other respect (entry format, the other walkers' locks); the
// .config option PPC_BOOK3S_64 (eras/config.ts) swaps in powerpc book3s64's two helpers, where
// LKML saw the oops ("especially noticeable on architectures such as powerpc", 27ae357fa82b).
import { _PAGE_TABLE, _PAGE_USER, pmd_none, pte_lockptr } from './pgtable.js';

export interface PgtableArchOps {
  /** pmd_bad(): the entry is not a pointer to a PTE page. */
  pmd_bad(pmd: number): boolean;
  /** include/linux/mm.h pte_lockptr(mm, pmd): ptlock_ptr(pmd_page(*pmd)). */
  pte_lockptr(pmd: number): number;
}

const _KERNPG_TABLE = _PAGE_TABLE & ~_PAGE_USER;

// arch/x86/include/asm/pgtable.h pmd_bad(), v4.15: anything but a kernel-table entry is bad, so
// an empty PMD (0) is bad and follow_page_pte() returns no_page_table() for it.
function pmd_bad_x86(pmd: number): boolean {
  return (pmd & 0xfff & ~_PAGE_USER) !== _KERNPG_TABLE;
}

export const X86_PGTABLE: PgtableArchOps = { pmd_bad: pmd_bad_x86, pte_lockptr };

// arch/powerpc/include/asm/book3s/64/pgtable.h pmd_bad(), v4.15 (hash__pmd_bad/radix__pmd_bad):
// only bits a PTE-page pointer must not have (H_PMD_BAD_BITS, RADIX_PMD_BAD_BITS) make it bad; an
// empty PMD has none, so follow_page_pte() goes on to pte_offset_map_lock() with it. In this
// machine's x86 entry format those bits are the ones outside _PAGE_TABLE (a huge PMD's _PAGE_PSE).
function pmd_bad_ppc64(pmd: number): boolean {
  return (pmd & 0xfff & ~_PAGE_TABLE) !== 0;
}

// include/linux/mm.h pte_lockptr() on powerpc book3s64 with ALLOC_SPLIT_PTLOCKS (spinlock_t larger
// than a long: CONFIG_DEBUG_SPINLOCK or lockdep builds): page->ptl is a pointer that
// pgtable_page_ctor() allocates for page-table pages only. pmd_page() of an empty PMD is the page
// at physical address 0 (__va(0): the exception vectors, kernel text), never a page table, so its
// ptl pointer is NULL, and spin_lock() dereferences it. (Without ALLOC_SPLIT_PTLOCKS the lock word
// is embedded in that page's struct page and the walker goes on to read kernel text as PTEs: the
// CVE's "bad memory access"; not modelled.)
function pte_lockptr_ppc64(pmd: number): number {
  return pmd_none(pmd) ? 0 : pte_lockptr(pmd);
}

export const PPC64_PGTABLE: PgtableArchOps = { pmd_bad: pmd_bad_ppc64, pte_lockptr: pte_lockptr_ppc64 };

/** The .config's choice (applyEra(); until one is applied, x86). */
export const pgtableArch: PgtableArchOps = { ...X86_PGTABLE };
