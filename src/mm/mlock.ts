// mm/mlock.c (v4.14): munlock of a whole VMA, for munmap (do_munmap()'s "unlock any mlock()ed
// ranges before detaching vmas") and exit_mmap's munlock loop (up to v5.17). PG_mlocked and the
// unevictable LRU are not modelled: what remains is VM_LOCKED cleared first (how munlock tells
// other lockers apart, and what the reaper of v4.14-v5.17 tests) and every page looked up through
// the page tables, referenced and released, as munlock_vma_page() would.

import { point } from '../cpu/context.js';
import { follow_page } from './gup.js';
import { kread, kwrite } from './kasan.js';
import { VM_LOCKED, VM_LOCKONFAULT, VMA } from './mm_types.js';
import { put_page } from './page_alloc.js';
import { vma_end, vma_start } from './vma_list.js';

/** include/linux/mm.h VM_LOCKED_CLEAR_MASK, v4.14 */
export const VM_LOCKED_CLEAR_MASK = ~(VM_LOCKED | VM_LOCKONFAULT);

// Between the pmd_none() test and the PTL: where the C1 reaper cleared a huge PMD.
const munlockPmdPoint = (): void => point('munlock:pmd');

// mm/mlock.c munlock_vma_pages_range(vma, start, end), v4.14: VM_LOCKED and VM_LOCKONFAULT are
// cleared first, then each page of the range is looked up and released.
export function munlock_vma_pages_range(vma: number, start: number, end: number): void {
  kwrite(vma + VMA.vm_flags, kread(vma + VMA.vm_flags) & VM_LOCKED_CLEAR_MASK);
  point('munlock_vma_pages_range');
  for (let addr = start; addr < end; addr = (addr + 4096) >>> 0) {
    const page = follow_page(vma, addr, munlockPmdPoint);
    if (page) put_page(page, 'munlock_vma_pages_range');
  }
}

// include/linux/mm.h munlock_vma_pages_all(), v4.14 (deleted in v5.18 by a213e5cf71cb)
export function munlock_vma_pages_all(vma: number): void {
  munlock_vma_pages_range(vma, vma_start(vma), vma_end(vma));
}
