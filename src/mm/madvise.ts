// mm/madvise.c, MADV_DONTNEED only: mmap_lock for reading (madvise_need_mmap_write() is 0 for it),
// a walk over the VMAs of the range, and a zap of each part. The VMAs stay as they are (no split,
// no merge), and so do their page tables and anon_vma: the next touch faults a fresh page in. The
// functions are v6.4's; the path is the same in effect from v4.14 to v6.15 (up to v6.2 the zap is
// zap_page_range(), which walks on to the next VMA itself; v6.15's madvise_lock() still picks the
// mmap read lock for MADV_DONTNEED). No hugetlbfs, userfaultfd or mmu notifiers here.
import { EINVAL, ENOMEM } from '../kernel/errno.js';
import { kread } from './kasan.js';
import { vma_end, vma_start, zap_page_range_single } from './memory.js';
import { VM_HUGETLB, VM_LOCKED, VM_PFNMAP, VMA } from './mm_types.js';
import { mmap_read_lock, mmap_read_unlock } from './mmap_lock.js';
import { find_vma, find_vma_prev } from './vma_list.js';

// include/uapi/asm-generic/mman-common.h
export const MADV_DONTNEED = 4;

const PAGE_SIZE = 4096;
const u32 = (x: number): number => x >>> 0;

/** `struct vm_area_struct **prev`: what the visit leaves behind for the walk's next step. */
interface Prev {
  vma: number;
}

// mm/madvise.c madvise_dontneed_free_valid_vma(), v6.4: not mlocked (MADV_DONTNEED, not
// MADV_DONTNEED_LOCKED), not a PFN map; a hugetlb VMA (never, here) has checks of its own.
function madvise_dontneed_free_valid_vma(vma: number): boolean {
  const vm_flags = kread(vma + VMA.vm_flags);
  if (vm_flags & VM_HUGETLB) return false;
  return !(vm_flags & (VM_LOCKED | VM_PFNMAP));
}

// mm/madvise.c madvise_dontneed_single_vma(), v6.4
function madvise_dontneed_single_vma(vma: number, start: number, end: number): number {
  zap_page_range_single(vma, start, u32(end - start));
  return 0;
}

// mm/madvise.c madvise_dontneed_free(), v6.4, for MADV_DONTNEED
function madvise_dontneed_free(vma: number, prev: Prev, start: number, end: number): number {
  prev.vma = vma;
  if (!madvise_dontneed_free_valid_vma(vma)) return -EINVAL;
  if (start === end) return 0;
  return madvise_dontneed_single_vma(vma, start, end);
}

// mm/madvise.c madvise_walk_vmas(), v6.4: each VMA's part of [start, end); a hole in the range is
// skipped and reported as -ENOMEM at the end, as the man page says.
function madvise_walk_vmas(mm: number, start: number, end: number): number {
  const found = find_vma_prev(mm, start);
  let vma = found.vma;
  const prev: Prev = { vma: vma && start > vma_start(vma) ? vma : found.prev };
  let unmapped_error = 0;
  for (;;) {
    if (!vma) return -ENOMEM;
    if (start < vma_start(vma)) {
      unmapped_error = -ENOMEM;
      start = vma_start(vma);
      if (start >= end) break;
    }
    const tmp = Math.min(vma_end(vma), end);
    const error = madvise_dontneed_free(vma, prev, start, tmp);
    if (error) return error;
    start = tmp;
    if (prev.vma && start < vma_end(prev.vma)) start = vma_end(prev.vma);
    if (start >= end) break;
    vma = find_vma(mm, prev.vma ? vma_end(prev.vma) : start);
  }
  return unmapped_error;
}

// mm/madvise.c do_madvise(), v6.4, for MADV_DONTNEED: 0, or -EINVAL / -ENOMEM.
export function do_madvise(
  mm: number,
  start: number,
  len_in: number,
  behavior: typeof MADV_DONTNEED,
): number {
  if (behavior !== MADV_DONTNEED) return -EINVAL; // the other behaviours are not modelled
  start = u32(start);
  if (start & (PAGE_SIZE - 1)) return -EINVAL;
  const len = u32(u32(len_in + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)); // PAGE_ALIGN()
  if (len_in && !len) return -EINVAL;
  const end = start + len;
  if (end > 2 ** 32) return -EINVAL; // end < start in the kernel's unsigned long
  if (end === start) return 0;
  mmap_read_lock(mm);
  const error = madvise_walk_vmas(mm, start, end);
  mmap_read_unlock(mm);
  return error;
}
