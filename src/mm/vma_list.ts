// The VMA container, an era slot (EraProfile.vma, installed by applyEra()): up to v6.0 the
// mm->mmap list sorted by address through vm_next/vm_prev (this file; the rb-tree, vmacache and the
// free-gap augmentation are not modelled: lookups walk the list); from v6.1 the maple tree
// mm->mm_mt (maple_tree.ts). The era-neutral entry points below (find_vma, find_vma_prev,
// for_each_vma, VMA_ITERATOR + vma_find, vma_link, __insert_vm_struct, detach_vmas_to_be_unmapped
// ...) dispatch to the era's container, so mmap, munmap, mprotect, the fault path, the reaper and
// every scenario run unchanged in every era. Code that is one era's form (exit_mmap_v4_14,
// dup_mmap_v6_1) uses its own container's functions directly.
//
// A walk is a MaState: lib/maple_tree.c's struct ma_state, which the list fills in its own way
// (`node` is the VMA last returned, and the next step reads its vm_next).
//
// Writers hold mmap_lock for writing (stack expansion: for reading, under the anon_vma lock and
// page_table_lock). Readers hold it for reading, except exit_mmap() (mm_users is 0), the RCU
// readers of a tree in RCU mode (v6.3+) and the buggy walkers the scenarios replay.
import { die } from '../kernel/panic.js';
import { KERN_WARNING, printk } from '../kernel/printk.js';
import { mem } from '../shm/arena.js';
import { kread, kwrite } from './kasan.js';
import { MM, ULONG_MAX, VMA } from './mm_types.js';

const u32 = (x: number): number => x >>> 0;

export const vma_start = (vma: number): number => u32(kread(vma + VMA.vm_start));
export const vma_end = (vma: number): number => u32(kread(vma + VMA.vm_end));
/** vma->vm_next: the list eras only (it stays 0 from v6.1). */
export const vma_next = (vma: number): number => kread(vma + VMA.vm_next);
/** vma->vm_prev: the list eras only. */
export const vma_prev = (vma: number): number => kread(vma + VMA.vm_prev);
/** include/linux/mm.h vma_pages() */
export const vma_pages = (vma: number): number => (vma_end(vma) - vma_start(vma)) >>> 12;

/** ma_state.offset of a walk that has not looked at the container yet (the kernel's MAS_START). */
export const MAS_START = -1;
/** ma_state.offset of a walk that ran off its end (MAS_NONE). */
export const MAS_NONE = -2;

/**
 * lib/maple_tree.c struct ma_state (MA_STATE(), VMA_ITERATOR()), era-neutral: a walk of one set of
 * VMAs. Private to the CPU that walks, as the kernel's lives on its stack.
 */
export interface MaState {
  /** The set walked: a struct maple_tree (&mm->mm_mt, a detached tree), or the list head word. */
  mt: number;
  /** The range of the entry last returned (the tree), or where a fresh walk starts. */
  index: number;
  last: number;
  /** Tree: the node the walk read (0 before). List: the VMA last returned. */
  node: number;
  /** Tree: the slot in `node`. Both: MAS_START, MAS_NONE. */
  offset: number;
  /** Nodes mas_preallocate() reserved for the stores to come (the tree only). */
  alloc: number[];
}

/** The VMA container of an era: how the mm's VMAs are kept, found, walked and changed. */
export interface VmaContainer {
  /** What `mmrace eras` would show: the container and the era it first appeared in. */
  readonly name: string;
  /** kernel/fork.c mm_init()'s part: an empty container (the list: mm->mmap = NULL). */
  mm_init(mm: number): void;
  /** The set MA_STATE() walks for the mm: &mm->mm_mt, or the list head &mm->mmap. */
  mm_mt(mm: number): number;
  /** MA_STATE(mas, mt, index, index). */
  mas_init(mt: number, index: number): MaState;
  /** MA_STATE(mas, mt, vma->vm_end, vma->vm_end): the next mas_find() returns the VMA after `vma`. */
  mas_after_vma(mt: number, vma: number): MaState;
  /** mas_find(mas, max): the next VMA that starts at or below `max`, or 0. */
  mas_find(mas: MaState, max: number): number;
  /** find_vma(): the first VMA with vm_end > addr, or 0. */
  find_vma(mm: number, addr: number): number;
  /** find_vma_prev(): find_vma() and the VMA before it (the last one when none). */
  find_vma_prev(mm: number, addr: number): { vma: number; prev: number };
  /** The VMA after `vma` in the mm (vma->vm_next; v6.1: find_vma(mm, vma->vm_end)). */
  vma_after(mm: number, vma: number): number;
  /** The VMA before `vma` in the mm (vma->vm_prev; v6.1: mas_prev()). */
  vma_before(mm: number, vma: number): number;
  /** vma_link(): a new VMA into the mm, counted in map_count. 0 or -ENOMEM. */
  vma_link(mm: number, vma: number): number;
  /** mas_preallocate() for what a VMA change stores (vma_mas_store, __insert_vm_struct); null: -ENOMEM. */
  vma_prealloc(mm: number): MaState | null;
  /** vma_mas_store(): `vma`'s [vm_start, vm_end) changed; the container now says so. */
  vma_mas_store(mas: MaState, vma: number): void;
  /** __insert_vm_struct(): split_vma()'s new half into the mm, counted in map_count. */
  __insert_vm_struct(mas: MaState, mm: number, vma: number): void;
  /** mas_destroy(): what vma_prealloc() reserved and the stores did not use. */
  mas_destroy(mas: MaState): void;
  /**
   * detach_vmas_to_be_unmapped(): `vma` and the VMAs after it that start below `end` leave the mm
   * (and map_count). Returns the set they form now, for unmap_region() and remove_vma_list(): a
   * detached tree (v6.1 mt_detach), or 0 for the list (they stay chained through vm_next). -ENOMEM:
   * nothing changed.
   */
  detach_vmas_to_be_unmapped(mm: number, vma: number, prev: number, end: number): number;
  /** The detached set is done with (v6.1: __mt_destroy(&mt_detach)); the list: nothing. */
  detached_destroy(mt: number): void;
}

function unset(): never {
  throw new Error('no era profile applied (see src/eras/)');
}

/** The era's container (applyEra() copies EraProfile.vma here). */
export const vmaContainer: { -readonly [K in keyof VmaContainer]: VmaContainer[K] } = {
  name: 'none',
  mm_init: unset,
  mm_mt: unset,
  mas_init: unset,
  mas_after_vma: unset,
  mas_find: unset,
  find_vma: unset,
  find_vma_prev: unset,
  vma_after: unset,
  vma_before: unset,
  vma_link: unset,
  vma_prealloc: unset,
  vma_mas_store: unset,
  __insert_vm_struct: unset,
  mas_destroy: unset,
  detach_vmas_to_be_unmapped: unset,
  detached_destroy: unset,
};

// ---------------------------------------------------------------------------------------------
// The era-neutral entry points

/** kernel/fork.c mm_init()'s container part (mt_init_flags(&mm->mm_mt, MM_MT_FLAGS) from v6.1). */
export function mm_init_vmas(mm: number): void {
  vmaContainer.mm_init(mm);
}

/** The mm's own set, as MA_STATE() names it (&mm->mm_mt; the list's head word). */
export function mm_mt(mm: number): number {
  return vmaContainer.mm_mt(mm);
}

/** MA_STATE(mas, mt, index, index): a walk of the set `mt` from `index`. */
export function MA_STATE(mt: number, index: number): MaState {
  return vmaContainer.mas_init(mt, index);
}

/** MA_STATE() positioned after `vma`: the next mas_find() returns the VMA that follows it in `mt`. */
export function mas_after_vma(mt: number, vma: number): MaState {
  return vmaContainer.mas_after_vma(mt, vma);
}

/** mas_find(mas, max): the next VMA of the walk that starts at or below max, or 0. */
export function mas_find(mas: MaState, max: number): number {
  return vmaContainer.mas_find(mas, max);
}

/** include/linux/mm.h VMA_ITERATOR(vmi, mm, addr), v6.1: a walk of the mm's VMAs from addr. */
export function VMA_ITERATOR(mm: number, addr: number): MaState {
  return vmaContainer.mas_init(vmaContainer.mm_mt(mm), u32(addr));
}

/** include/linux/mm.h vma_find(vmi, max), v6.1: the next VMA that starts below max. */
export function vma_find(vmi: MaState, max: number): number {
  return vmaContainer.mas_find(vmi, u32(max - 1));
}

/** mm/mmap.c find_vma(): the first VMA with vm_end > addr, or 0. */
export function find_vma(mm: number, addr: number): number {
  return vmaContainer.find_vma(mm, u32(addr));
}

/** mm/mmap.c find_vma_prev(): find_vma() and the VMA before it (the last VMA when none). */
export function find_vma_prev(mm: number, addr: number): { vma: number; prev: number } {
  return vmaContainer.find_vma_prev(mm, u32(addr));
}

// include/linux/mm.h find_vma_intersection() (v4.14 and v6.1 alike): the first VMA that
// intersects [start, end), or 0.
export function find_vma_intersection(mm: number, start: number, end: number): number {
  const vma = find_vma(mm, start);
  return vma && u32(end) > vma_start(vma) ? vma : 0;
}

/** The VMA after `vma` in its mm: vma->vm_next up to v6.0, find_vma(mm, vma->vm_end) from v6.1. */
export function vma_after(mm: number, vma: number): number {
  return vmaContainer.vma_after(mm, vma);
}

/** The VMA before `vma` in its mm: vma->vm_prev up to v6.0, mas_prev() from v6.1. */
export function vma_before(mm: number, vma: number): number {
  return vmaContainer.vma_before(mm, vma);
}

/** include/linux/mm.h for_each_vma(vmi, vma), v6.1: every VMA from the lowest up. */
export function* for_each_vma(mm: number): Generator<number> {
  const vmi = VMA_ITERATOR(mm, 0);
  for (let vma = mas_find(vmi, ULONG_MAX); vma; vma = mas_find(vmi, ULONG_MAX)) yield vma;
}

/** include/linux/mm.h for_each_vma_range(vmi, vma, end), v6.1: the VMAs that intersect [start, end). */
export function* for_each_vma_range(mm: number, start: number, end: number): Generator<number> {
  const vmi = VMA_ITERATOR(mm, start);
  for (let vma = vma_find(vmi, end); vma; vma = vma_find(vmi, end)) yield vma;
}

/** mm/mmap.c vma_link(): a new VMA into the mm's container, counted in map_count. 0 or -ENOMEM. */
export function vma_link(mm: number, vma: number): number {
  return vmaContainer.vma_link(mm, vma);
}

/** mas_preallocate() before a VMA's bounds change (__vma_adjust, expand_downwards); null: -ENOMEM. */
export function vma_prealloc(mm: number): MaState | null {
  return vmaContainer.vma_prealloc(mm);
}

/** vma_mas_store(): `vma`'s bounds changed (nothing to do for the list, which keeps no bounds). */
export function vma_mas_store(mas: MaState, vma: number): void {
  vmaContainer.vma_mas_store(mas, vma);
}

/** __insert_vm_struct(): split_vma()'s new half into the mm (v6.1: vma_mas_store + map_count++). */
export function __insert_vm_struct(mas: MaState, mm: number, vma: number): void {
  vmaContainer.__insert_vm_struct(mas, mm, vma);
}

/** mas_destroy(): the preallocation that was not used. */
export function mas_destroy(mas: MaState): void {
  vmaContainer.mas_destroy(mas);
}

/**
 * detach_vmas_to_be_unmapped() (v6.1: do_mas_align_munmap()'s mt_detach): take `vma` and the
 * VMAs after it that start below `end` out of the mm. Returns the set they now form (0 for the
 * list, whose detached VMAs stay chained through vm_next), or -ENOMEM with nothing changed.
 */
export function detach_vmas_to_be_unmapped(mm: number, vma: number, prev: number, end: number): number {
  return vmaContainer.detach_vmas_to_be_unmapped(mm, vma, prev, u32(end));
}

/** The detached set is no longer walked (v6.1: __mt_destroy(&mt_detach)). */
export function detached_destroy(mt: number): void {
  vmaContainer.detached_destroy(mt);
}

// ---------------------------------------------------------------------------------------------
// The list: v4.14 … v6.0

/** The lowest VMA (mm->mmap), 0 when the address space is empty. The list eras only. */
export function vma_first(mm: number): number {
  return kread(mm + MM.mmap);
}

// mm/mmap.c find_vma(), v4.14: the first VMA with vm_end > addr (a list walk, no vmacache)
export function find_vma_v4_14(mm: number, addr: number): number {
  for (let vma = vma_first(mm); vma; vma = vma_next(vma)) {
    if (vma_end(vma) > addr) return vma;
  }
  return 0;
}

// mm/mmap.c find_vma_prev(), v4.14: find_vma() and the VMA before it (the last one if none).
export function find_vma_prev_v4_14(mm: number, addr: number): { vma: number; prev: number } {
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

// mm/util.c __vma_link_list(), v4.14: `vma` goes after `prev` (first when prev is 0).
function __vma_link_list(mm: number, vma: number, prev: number): void {
  const next = prev ? vma_next(prev) : vma_first(mm);
  kwrite(vma + VMA.vm_prev, prev);
  kwrite(vma + VMA.vm_next, next);
  if (prev) kwrite(prev + VMA.vm_next, vma);
  else kwrite(mm + MM.mmap, vma);
  if (next) kwrite(next + VMA.vm_prev, vma);
}

/** include/asm-generic/bug.h BUG() on x86: report_bug()'s cut-here line, "kernel BUG at", die(). */
function BUG(file: string, fn: string): never {
  printk(KERN_WARNING, '------------[ cut here ]------------');
  die(`kernel BUG at ${file}:${fn}!`, 'invalid opcode: 0000');
}

// mm/mmap.c vma_link(), v4.14: link a new VMA after the `prev` find_vma_links() gives and count it
// (file rmap is not modelled). The caller made room: mmap_region() unmapped what was there.
export function vma_link_v4_14(mm: number, vma: number): number {
  __vma_link_list(mm, vma, find_vma_links(mm, vma_start(vma), vma_end(vma)).prev);
  Atomics.add(mem.i32, mm + MM.map_count, 1);
  return 0;
}

// mm/mmap.c __insert_vm_struct(), v4.14: split_vma's half goes into its place in the list.
export function __insert_vm_struct_v4_14(_mas: MaState, mm: number, vma: number): void {
  const { prev, overlap } = find_vma_links(mm, vma_start(vma), vma_end(vma));
  if (overlap) BUG('mm/mmap.c', '__insert_vm_struct');
  __vma_link_list(mm, vma, prev);
  Atomics.add(mem.i32, mm + MM.map_count, 1);
}

// mm/mmap.c detach_vmas_to_be_unmapped(), v4.14: take `vma` and the VMAs after it that start below
// `end` off the list; they stay chained through vm_next (the last one's is 0) for unmap_region()
// and remove_vma_list(). Returns 0: the detached set is that chain.
export function detach_vmas_to_be_unmapped_v4_14(mm: number, vma: number, prev: number, end: number): number {
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
  return 0;
}

/**
 * dup_mmap()'s append, v4.14: the child's list is built in address order, so each copy goes last
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

// A list walk as a MaState: `mt` is the head word (&mm->mmap), `node` the VMA last returned.
// Like v4.14's `for (vma = mm->mmap; vma; vma = vma->vm_next)` loops, it reads mm->mmap, then each
// vm_next when the next VMA is asked for, and a VMA's vm_start only when a bound below ULONG_MAX
// is to be checked.

function listMasInit(mt: number, index: number): MaState {
  return { mt, index, last: index, node: 0, offset: MAS_START, alloc: [] };
}

function listMasAfterVma(mt: number, vma: number): MaState {
  return { mt, index: 0, last: 0, node: vma, offset: 0, alloc: [] };
}

function listMasFind(mas: MaState, max: number): number {
  let vma: number;
  if (mas.offset === MAS_NONE) return 0;
  if (mas.offset === MAS_START) {
    vma = kread(mas.mt);
    if (mas.index) while (vma && vma_end(vma) <= mas.index) vma = vma_next(vma);
  } else vma = vma_next(mas.node);
  if (!vma || (max !== ULONG_MAX && vma_start(vma) > max)) {
    mas.offset = MAS_NONE;
    return 0;
  }
  mas.node = vma;
  mas.offset = 0;
  return vma;
}

function listVmaPrealloc(_mm: number): MaState {
  return listMasInit(0, 0);
}

function listNothing(): void {}

/** The list of v4.14 … v6.0 (the v4.14 code stands for every list era). */
export const VMA_LIST_V4_14: VmaContainer = {
  name: 'vm_next list (mm->mmap)',
  mm_init: listNothing, // mm->mmap = NULL: a zeroed mm_struct has it
  mm_mt: (mm) => mm + MM.mmap,
  mas_init: listMasInit,
  mas_after_vma: listMasAfterVma,
  mas_find: listMasFind,
  find_vma: find_vma_v4_14,
  find_vma_prev: find_vma_prev_v4_14,
  vma_after: (_mm, vma) => vma_next(vma),
  vma_before: (_mm, vma) => vma_prev(vma),
  vma_link: vma_link_v4_14,
  vma_prealloc: listVmaPrealloc,
  vma_mas_store: listNothing, // the list keeps order, not bounds
  __insert_vm_struct: __insert_vm_struct_v4_14,
  mas_destroy: listNothing,
  detach_vmas_to_be_unmapped: detach_vmas_to_be_unmapped_v4_14,
  detached_destroy: listNothing,
};
