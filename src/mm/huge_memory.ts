// mm/huge_memory.c, v4.15: a minimal anonymous transparent huge page. A huge PMD (_PAGE_PSE) maps
// one compound page of HPAGE_PMD_NR pages; here the compound page is its head's struct page alone
// (PG_head, one frame): the 511 tail pages, their frames and user data are not modelled, and
// rss, refcount and mapcount are counted on the head as the kernel counts them for a PMD mapping.
// Not modelled: the huge zero page, khugepaged, splitting (__split_huge_pmd: a zap of part of a
// huge PMD is a BUG here), the page table deposited for a later split (pgtable_trans_huge_deposit:
// so nr_ptes/pgtables_bytes do not count it), migration and DAX PMDs. Only VMAs with VM_HUGEPAGE
// (MADV_HUGEPAGE, THP "madvise" mode) get huge pages, and only the C1 entry maps any.
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';
import { spin_unlock } from '../kernel/locking/spinlock.js';
import { mem } from '../shm/arena.js';
import { check_stable_address_space } from './era_ops.js';
import { kread, kwrite, kxchg } from './kasan.js';
import { add_mm_counter, VM_FAULT_OOM } from './memory.js';
import { MM_ANONPAGES, VM_HUGEPAGE, VM_WRITE, VMA } from './mm_types.js';
import { __tlb_remove_page, type MmuGather, tlb_flush_mmu } from './mmu_gather.js';
import { __GFP_ZERO, alloc_page, GFP_HIGHUSER_MOVABLE, get_page, PAGE, put_page } from './page_alloc.js';
import {
  _PAGE_DIRTY,
  _PAGE_PSE,
  _PAGE_RW,
  entry_page,
  mk_pte,
  PMD_SIZE,
  pmd_lock,
  pmd_none,
  pmd_trans_huge,
} from './pgtable.js';
import { anon_vma_prepare, page_add_new_anon_rmap, page_remove_rmap } from './rmap.js';
import { vma_end, vma_start } from './vma_list.js';

export const HPAGE_PMD_NR = 512;
export const HPAGE_PMD_SIZE = PMD_SIZE;
const HPAGE_PMD_MASK = ~(HPAGE_PMD_SIZE - 1) >>> 0;
/** include/linux/mm_types.h VM_FAULT_FALLBACK: no huge page here, map small pages instead. */
export const VM_FAULT_FALLBACK = 0x0800;

// --trace: function slices (cpu/trace_buffer.ts)
const T = { zap_huge_pmd: traceFn('zap_huge_pmd') };

/** include/linux/page-flags.h PG_head: the first page of a compound page. */
export const PG_head = 1 << 3;

// include/linux/page-flags.h PageTransHuge(): the head of a transparent huge page
export function PageTransHuge(page: number): boolean {
  return (mem.i32[page + PAGE.flags]! & PG_head) !== 0;
}

// include/linux/huge_mm.h transparent_hugepage_enabled(), "madvise" mode: MADV_HUGEPAGE VMAs only
export function transparent_hugepage_enabled(vma: number): boolean {
  return (kread(vma + VMA.vm_flags) & VM_HUGEPAGE) !== 0;
}

// mm/huge_memory.c do_huge_pmd_anonymous_page() with __do_huge_pmd_anonymous_page(), v4.15: a
// fresh huge page mapped by the empty PMD `pmdp`, under the PMD lock. Returns 0, a VM_FAULT_ code,
// or VM_FAULT_FALLBACK when the aligned 2 MiB does not fit in the VMA.
export function do_huge_pmd_anonymous_page(vma: number, pmdp: number, address: number): number {
  const mm = kread(vma + VMA.vm_mm);
  const haddr = (address & HPAGE_PMD_MASK) >>> 0;
  if (haddr < vma_start(vma) || haddr + HPAGE_PMD_SIZE > vma_end(vma)) return VM_FAULT_FALLBACK;
  if (anon_vma_prepare(vma)) return VM_FAULT_OOM;
  const page = alloc_page(GFP_HIGHUSER_MOVABLE | __GFP_ZERO, 'do_huge_pmd_anonymous_page');
  if (!page) return VM_FAULT_FALLBACK;
  mem.i32[page + PAGE.flags]! |= PG_head; // prep_transhuge_page()
  const ptl = pmd_lock(mm);
  if (!pmd_none(kread(pmdp))) {
    spin_unlock(ptl);
    put_page(page, 'do_huge_pmd_anonymous_page');
    return 0;
  }
  const ret = check_stable_address_space(mm);
  if (ret) {
    spin_unlock(ptl);
    put_page(page, 'do_huge_pmd_anonymous_page');
    return ret;
  }
  // mk_huge_pmd() + maybe_pmd_mkwrite(pmd_mkdirty())
  let entry = mk_pte(page, kread(vma + VMA.vm_page_prot)) | _PAGE_PSE | _PAGE_DIRTY;
  if (kread(vma + VMA.vm_flags) & VM_WRITE) entry |= _PAGE_RW;
  page_add_new_anon_rmap(page, vma, haddr);
  kwrite(pmdp, entry); // set_pmd_at()
  add_mm_counter(mm, MM_ANONPAGES, HPAGE_PMD_NR);
  spin_unlock(ptl);
  return 0;
}

// mm/huge_memory.c __pmd_trans_huge_lock(), v4.15: the PMD lock if the PMD is still huge, else 0
function __pmd_trans_huge_lock(pmdp: number, vma: number): number {
  const ptl = pmd_lock(kread(vma + VMA.vm_mm));
  if (pmd_trans_huge(kread(pmdp))) return ptl;
  spin_unlock(ptl);
  return 0;
}

// mm/huge_memory.c zap_huge_pmd(), v4.15 (anonymous pages): clear the huge PMD under the PMD lock,
// unmap the page and hand it to the gather. 0 when the PMD was no longer huge.
export function zap_huge_pmd(tlb: MmuGather, vma: number, pmdp: number, _addr: number): number {
  traceBegin(T.zap_huge_pmd);
  try {
    const ptl = __pmd_trans_huge_lock(pmdp, vma);
    if (!ptl) return 0;
    const orig_pmd = kxchg(pmdp, 0); // pmdp_huge_get_and_clear_full()
    const page = entry_page(orig_pmd);
    page_remove_rmap(page); // page_remove_rmap(page, true): the compound mapcount
    add_mm_counter(tlb.mm, MM_ANONPAGES, -HPAGE_PMD_NR); // zap_deposited_table(): none deposited
    spin_unlock(ptl);
    // tlb_remove_page_size(tlb, page, HPAGE_PMD_SIZE)
    if (__tlb_remove_page(tlb, page)) tlb_flush_mmu(tlb);
    return 1;
  } finally {
    traceEnd(T.zap_huge_pmd);
  }
}

// mm/huge_memory.c follow_trans_huge_pmd(), v4.15 (FOLL_GET; the PMD lock held): the page with a
// reference. The kernel returns the tail page at `address`; without tails, the head stands for it.
export function follow_trans_huge_pmd(_vma: number, _address: number, pmdp: number): number {
  const page = entry_page(kread(pmdp));
  get_page(page);
  return page;
}
