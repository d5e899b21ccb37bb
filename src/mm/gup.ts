// mm/gup.c and mm/memory.c __access_remote_vm() (v4.14): how /proc/<pid>/cmdline, ptrace and
// process_vm_readv read another process's memory, under its mmap_sem for reading; and the walk
// they and munlock share, follow_page_mask() (v4.15, with its transparent-huge-PMD path).
import { point } from '../cpu/context.js';
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';
import { down_read, up_read } from '../kernel/locking/rwsem.js';
import { spin_lock, spin_unlock } from '../kernel/locking/spinlock.js';
import { follow_trans_huge_pmd, HPAGE_PMD_NR } from './huge_memory.js';
import { kread } from './kasan.js';
import { handle_mm_fault, vm_normal_page, vma_start } from './memory.js';
import { MM, VMA } from './mm_types.js';
import { find_vma } from './mmap.js';
import { get_page, put_page } from './page_alloc.js';
import {
  pgd_offset,
  pgd_present,
  pmd_lock,
  pmd_none,
  pmd_offset,
  pmd_present,
  pmd_trans_huge,
  pte_offset_map,
  pte_present,
  pte_unmap_unlock,
} from './pgtable.js';
import { pgtableArch } from './pgtable_arch.js';

// --trace: function slices (cpu/trace_buffer.ts)
const T = {
  __access_remote_vm: traceFn('__access_remote_vm'),
  follow_page_mask: traceFn('follow_page_mask'),
};

/** follow_page_mask()'s out parameter: pages beyond the one returned that it also covers. */
export interface FollowPageContext {
  page_mask: number;
}

// mm/gup.c follow_page_pte(), v4.15 (FOLL_GET): the page with a reference, or 0. Each `*pmd` is
// its own load, as in the kernel: pmd_bad() and then pte_offset_map_lock() read the entry again.
// pmd_bad() and pte_lockptr() are the arch's (pgtable_arch.ts).
function follow_page_pte(vma: number, address: number, pmdp: number): number {
  if (pgtableArch.pmd_bad(kread(pmdp))) return 0; // no_page_table()
  // pte_offset_map_lock(mm, pmd, address, &ptl)
  const pmdval = kread(pmdp);
  const ptl = pgtableArch.pte_lockptr(pmdval);
  spin_lock(ptl);
  const ptep = pte_offset_map(pmdval, address);
  const pte = kread(ptep);
  let page = 0;
  if (pte_present(pte)) {
    page = vm_normal_page(vma, address, pte);
    if (page) get_page(page);
  }
  pte_unmap_unlock(ptl);
  return page;
}

// mm/gup.c follow_pmd_mask(), v4.15 (no hugetlbfs, hugepd, migration entries or devmap here).
// Before 688272809fcc (v4.18) the PMD is re-read at every test, and the PMD lock is taken only
// for a huge one. `afterPmd` runs once the pmd_none() and pmd_present() tests are passed, before
// the pmd_trans_huge() load: munlock's preemption point (mlock.ts), where C1's reaper clears a
// huge PMD and sends this walker to follow_page_pte() with an empty one.
function follow_pmd_mask(
  vma: number,
  address: number,
  pgdval: number,
  ctx: FollowPageContext,
  afterPmd?: () => void,
): number {
  const pmdp = pmd_offset(pgdval, address);
  if (pmd_none(kread(pmdp))) return 0;
  if (!pmd_present(kread(pmdp))) return 0; // no FOLL_MIGRATION
  afterPmd?.();
  if (!pmd_trans_huge(kread(pmdp))) return follow_page_pte(vma, address, pmdp);
  const ptl = pmd_lock(kread(vma + VMA.vm_mm));
  if (!pmd_present(kread(pmdp))) {
    spin_unlock(ptl);
    return 0;
  }
  if (!pmd_trans_huge(kread(pmdp))) {
    spin_unlock(ptl);
    return follow_page_pte(vma, address, pmdp);
  }
  const page = follow_trans_huge_pmd(vma, address, pmdp);
  spin_unlock(ptl);
  ctx.page_mask = HPAGE_PMD_NR - 1;
  return page;
}

// mm/gup.c follow_page_mask(vma, address, FOLL_GET, &page_mask), v4.15 (p4d and pud folded)
export function follow_page_mask(
  vma: number,
  address: number,
  ctx: FollowPageContext,
  afterPmd?: () => void,
): number {
  traceBegin(T.follow_page_mask);
  try {
    ctx.page_mask = 0;
    const mm = kread(vma + VMA.vm_mm);
    const pgdval = kread(pgd_offset(mm, address));
    if (!pgd_present(pgdval)) return 0;
    return follow_pmd_mask(vma, address, pgdval, ctx, afterPmd);
  } finally {
    traceEnd(T.follow_page_mask);
  }
}

// include/linux/mm.h follow_page(), v4.15: follow_page_mask() without the mask.
export function follow_page(vma: number, address: number): number {
  return follow_page_mask(vma, address, { page_mask: 0 });
}

// mm/gup.c __get_user_pages() for one page: look it up, fault it in if needed.
export function get_user_page_remote(mm: number, address: number): number {
  const vma = find_vma(mm, address);
  if (!vma || vma_start(vma) > address) return 0;
  for (let tries = 0; tries < 2; tries++) {
    const page = follow_page(vma, address);
    if (page) return page;
    if (handle_mm_fault(vma, address, 0)) return 0;
  }
  return 0;
}

// mm/memory.c __access_remote_vm(), v4.14. Returns the bytes "read" (user data is not modelled).
export function __access_remote_vm(mm: number, addr: number, len: number): number {
  traceBegin(T.__access_remote_vm);
  try {
    let done = 0;
    down_read(mm + MM.mmap_sem);
    while (done < len) {
      const page = get_user_page_remote(mm, (addr + done) >>> 0);
      if (!page) break;
      point('access_remote_vm:copy');
      const bytes = Math.min(len - done, 4096 - ((addr + done) & 4095));
      put_page(page, '__access_remote_vm');
      done += bytes;
    }
    up_read(mm + MM.mmap_sem);
    return done;
  } finally {
    traceEnd(T.__access_remote_vm);
  }
}
