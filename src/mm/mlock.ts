// mm/mlock.c (v4.14): munlock of a whole VMA, for munmap (do_munmap()'s "unlock any mlock()ed
// ranges before detaching vmas") and exit_mmap's munlock loop (up to v5.17). PG_mlocked and the
// unevictable LRU are not modelled: what remains is VM_LOCKED cleared first (how munlock tells
// other lockers apart, and what the reaper of v4.14-v5.17 tests) and every page looked up through
// the page tables, referenced and released, as munlock_vma_page() would.
import { point } from '../cpu/context.js';
import { kread, kwrite } from './kasan.js';
import { vm_normal_page } from './memory.js';
import { VM_LOCKED, VM_LOCKONFAULT, VMA } from './mm_types.js';
import { get_page, put_page } from './page_alloc.js';
import {
  pgd_offset,
  pgd_present,
  pmd_none,
  pmd_offset,
  pte_offset_map_lock,
  pte_present,
  pte_unmap_unlock,
} from './pgtable.js';
import { vma_end, vma_start } from './vma_list.js';

/** include/linux/mm.h VM_LOCKED_CLEAR_MASK, v4.14 */
export const VM_LOCKED_CLEAR_MASK = ~(VM_LOCKED | VM_LOCKONFAULT);

// mm/gup.c follow_page_mask(vma, address, FOLL_GET | FOLL_DUMP) for a PTE-mapped page, v4.14:
// the page with a reference, or 0 (gup.ts keeps its own copy, without the preemption point).
function follow_page_get(vma: number, address: number): number {
  const pgdval = kread(pgd_offset(kread(vma + VMA.vm_mm), address));
  if (!pgd_present(pgdval)) return 0;
  const pmdval = kread(pmd_offset(pgdval, address));
  if (pmd_none(pmdval)) return 0;
  // Between the pmd_none() test and the PTL: where the C1 reaper cleared a huge PMD.
  point('munlock:pmd');
  const out = { ptl: 0 };
  const ptep = pte_offset_map_lock(pmdval, address, out);
  const pte = kread(ptep);
  let page = 0;
  if (pte_present(pte)) {
    page = vm_normal_page(vma, address, pte);
    if (page) get_page(page);
  }
  pte_unmap_unlock(out.ptl);
  return page;
}

// mm/mlock.c munlock_vma_pages_range(vma, start, end), v4.14: VM_LOCKED and VM_LOCKONFAULT are
// cleared first, then each page of the range is looked up and released.
export function munlock_vma_pages_range(vma: number, start: number, end: number): void {
  kwrite(vma + VMA.vm_flags, kread(vma + VMA.vm_flags) & VM_LOCKED_CLEAR_MASK);
  point('munlock_vma_pages_range');
  for (let addr = start; addr < end; addr = (addr + 4096) >>> 0) {
    const page = follow_page_get(vma, addr);
    if (page) put_page(page, 'munlock_vma_pages_range');
  }
}

// include/linux/mm.h munlock_vma_pages_all(), v4.14 (deleted in v5.18 by a213e5cf71cb)
export function munlock_vma_pages_all(vma: number): void {
  munlock_vma_pages_range(vma, vma_start(vma), vma_end(vma));
}
