// mm/mlock.c (v4.15): munlock of a whole VMA, for munmap (do_munmap()'s "unlock any mlock()ed
// ranges before detaching vmas") and exit_mmap's munlock loop (up to v5.17). PG_mlocked and the
// unevictable LRU are not modelled: what remains is VM_LOCKED cleared first (how munlock tells
// other lockers apart, and what the reaper of v4.14-v5.17 tests) and every page looked up through
// the page tables with follow_page_mask(), referenced and released, as munlock_vma_page() would;
// a transparent huge page is stepped over whole.

import { point } from '../cpu/context.js';
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';
import { type FollowPageContext, follow_page_mask } from './gup.js';
import { HPAGE_PMD_NR, PageTransHuge } from './huge_memory.js';
import { kread, kwrite } from './kasan.js';
import { VM_LOCKED, VM_LOCKONFAULT, VMA } from './mm_types.js';
import { put_page } from './page_alloc.js';
import { vma_end, vma_start } from './vma_list.js';

/** include/linux/mm.h VM_LOCKED_CLEAR_MASK, v4.14 */
export const VM_LOCKED_CLEAR_MASK = ~(VM_LOCKED | VM_LOCKONFAULT);

// --trace: function slices (cpu/trace_buffer.ts)
const T = { munlock_vma_pages_range: traceFn('munlock_vma_pages_range') };

// Past follow_pmd_mask()'s pmd_none()/pmd_present() tests, before its pmd_trans_huge() load: where
// the C1 reaper clears a huge PMD under the walker (gup.ts).
const munlockPmdPoint = (): void => point('munlock:pmd');

// mm/mlock.c munlock_vma_pages_range(vma, start, end), v4.15: VM_LOCKED and VM_LOCKONFAULT are
// cleared first, then each page of the range is looked up and released. A huge page is one step
// (munlock_vma_page() returns its page mask); an address without a page is one small page.
export function munlock_vma_pages_range(vma: number, start: number, end: number): void {
  traceBegin(T.munlock_vma_pages_range);
  try {
    kwrite(vma + VMA.vm_flags, kread(vma + VMA.vm_flags) & VM_LOCKED_CLEAR_MASK);
    point('munlock_vma_pages_range');
    const ctx: FollowPageContext = { page_mask: 0 };
    while (start < end) {
      const page = follow_page_mask(vma, start, ctx, munlockPmdPoint);
      let page_mask = 0;
      if (page) {
        if (PageTransHuge(page)) page_mask = HPAGE_PMD_NR - 1; // munlock_vma_page()
        put_page(page, 'munlock_vma_pages_range');
      }
      start = (start + (1 + page_mask) * 4096) >>> 0;
    }
  } finally {
    traceEnd(T.munlock_vma_pages_range);
  }
}

// include/linux/mm.h munlock_vma_pages_all(), v4.14 (deleted in v5.18 by a213e5cf71cb)
export function munlock_vma_pages_all(vma: number): void {
  munlock_vma_pages_range(vma, vma_start(vma), vma_end(vma));
}
