// The VMA container of v4.14 … v6.0: mm->mmap, a list sorted by address through vm_next/vm_prev
// (the rb-tree, vmacache and the free-gap augmentation are not modelled: lookups walk the list).
// Every VMA-list manipulation of mmap, munmap, mprotect and fork goes through this file, so that
// the v6.1 container (an RCU-published array of VMA pointers) can take its place.
//
// Writers hold mmap_sem for writing. Readers hold it for reading, except exit_mmap() (mm_users is
// 0) and the buggy walkers the scenarios replay.
import { die } from '../kernel/panic.js';
import { KERN_WARNING, printk } from '../kernel/printk.js';
import { mem } from '../shm/arena.js';
import { kread, kwrite } from './kasan.js';
import { MM, VMA } from './mm_types.js';

const u32 = (x: number): number => x >>> 0;

export const vma_start = (vma: number): number => u32(kread(vma + VMA.vm_start));
export const vma_end = (vma: number): number => u32(kread(vma + VMA.vm_end));
export const vma_next = (vma: number): number => kread(vma + VMA.vm_next);
export const vma_prev = (vma: number): number => kread(vma + VMA.vm_prev);
/** include/linux/mm.h vma_pages() */
export const vma_pages = (vma: number): number => (vma_end(vma) - vma_start(vma)) >>> 12;

/** The lowest VMA (mm->mmap), 0 when the address space is empty. */
export function vma_first(mm: number): number {
  return kread(mm + MM.mmap);
}

// mm/mmap.c find_vma(), v4.14: the first VMA with vm_end > addr (a list walk, no vmacache)
export function find_vma(mm: number, addr: number): number {
  addr = u32(addr);
  for (let vma = vma_first(mm); vma; vma = vma_next(vma)) {
    if (vma_end(vma) > addr) return vma;
  }
  return 0;
}

// mm/mmap.c find_vma_prev(), v4.14: find_vma() and the VMA before it (the last one if none).
export function find_vma_prev(mm: number, addr: number): { vma: number; prev: number } {
  addr = u32(addr);
  let prev = 0;
  for (let vma = vma_first(mm); vma; vma = vma_next(vma)) {
    if (vma_end(vma) > addr) return { vma, prev: vma_prev(vma) };
    prev = vma;
  }
  return { vma: 0, prev };
}

// mm/mmap.c find_vma_links(), v4.14: where [addr, end) goes in the list. `overlap` is the
// kernel's -ENOMEM: some VMA intersects the range.
export function find_vma_links(mm: number, addr: number, end: number): { prev: number; overlap: boolean } {
  let prev = 0;
  for (let vma = vma_first(mm); vma; vma = vma_next(vma)) {
    if (vma_start(vma) >= u32(end)) break;
    if (vma_end(vma) > u32(addr)) return { prev, overlap: true };
    prev = vma;
  }
  return { prev, overlap: false };
}

/** Every VMA from the lowest up (the era-neutral for_each_vma(); not safe against removal). */
export function* for_each_vma(mm: number): Generator<number> {
  for (let vma = vma_first(mm); vma; vma = vma_next(vma)) yield vma;
}

/** The VMAs that intersect [start, end) (for_each_vma_range() of v6.1). */
export function* for_each_vma_range(mm: number, start: number, end: number): Generator<number> {
  for (let vma = find_vma(mm, start); vma && vma_start(vma) < u32(end); vma = vma_next(vma)) yield vma;
}

// mm/util.c __vma_link_list(), v4.14: `vma` goes after `prev` (first when prev is 0).
function __vma_link_list(mm: number, vma: number, prev: number): void {
  const next = prev ? vma_next(prev) : vma_first(mm);
  kwrite(vma + VMA.vm_prev, prev);
  kwrite(vma + VMA.vm_next, next);
  if (prev) kwrite(prev + VMA.vm_next, vma);
  else kwrite(mm + MM.mmap, vma);
  if (next) kwrite(next + VMA.vm_prev, vma);
}

// mm/mmap.c vma_link(), v4.14: link a new VMA after `prev` and count it (the caller found `prev`
// with find_vma_links(); file rmap is not modelled).
export function vma_link(mm: number, vma: number, prev: number): void {
  __vma_link_list(mm, vma, prev);
  Atomics.add(mem.i32, mm + MM.map_count, 1);
}

// mm/mmap.c __insert_vm_struct(), v4.14: split_vma's half goes into its place in the list.
export function __insert_vm_struct(mm: number, vma: number): void {
  const { prev, overlap } = find_vma_links(mm, vma_start(vma), vma_end(vma));
  if (overlap) {
    printk(KERN_WARNING, '------------[ cut here ]------------'); // BUG(): report_bug(), die()
    die('kernel BUG at mm/mmap.c:__insert_vm_struct!', 'invalid opcode: 0000');
  }
  vma_link(mm, vma, prev);
}

// mm/mmap.c detach_vmas_to_be_unmapped(), v4.14: take `vma` and the VMAs after it that start below
// `end` off the list; they stay chained through vm_next (the last one's is 0) for unmap_region()
// and remove_vma_list().
export function detach_vmas_to_be_unmapped(mm: number, vma: number, prev: number, end: number): void {
  kwrite(vma + VMA.vm_prev, 0);
  let tail: number;
  do {
    Atomics.sub(mem.i32, mm + MM.map_count, 1);
    tail = vma;
    vma = vma_next(vma);
  } while (vma && vma_start(vma) < u32(end));
  if (prev) kwrite(prev + VMA.vm_next, vma);
  else kwrite(mm + MM.mmap, vma);
  if (vma) kwrite(vma + VMA.vm_prev, prev);
  kwrite(tail + VMA.vm_next, 0);
}

/**
 * dup_mmap()'s append: the child's list is built in address order, so each copy goes last
 * (`*pprev = tmp; tmp->vm_prev = prev`). Returns the new tail.
 */
export function vma_append(mm: number, vma: number, tail: number): number {
  kwrite(vma + VMA.vm_next, 0);
  kwrite(vma + VMA.vm_prev, tail);
  if (tail) kwrite(tail + VMA.vm_next, vma);
  else kwrite(mm + MM.mmap, vma);
  Atomics.add(mem.i32, mm + MM.map_count, 1);
  return vma;
}
