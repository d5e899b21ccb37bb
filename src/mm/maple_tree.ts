// lib/maple_tree.c and include/linux/maple_tree.h (v6.1), reduced to a tree of one node, and the
// VMA container of v6.1+ on it: mm->mm_mt, with the v6.1 forms of find_vma(), vma_link(),
// vma_mas_store() and do_mas_align_munmap()'s detached tree (mm/mmap.c).
//
// The tree. struct maple_tree (mm_types.ts MAPLE_TREE: ma_flags, ma_root, ma_external_lock)
// points at 0 (empty) or at one node, a slab object holding
//     [count, then for each entry: index, last, entry]
// sorted by index, the ranges [index, last] disjoint: for mm_mt, every VMA over
// [vm_start, vm_end - 1]. Gaps are left out (the maple tree keeps them as NULL ranges). Lookups
// compare the node's pivots and never dereference a VMA, as in the maple tree.
//
// Writes are copy-on-write: a store builds a new node, publishes it with one
// rcu_assign_pointer(mt->ma_root) and frees the old node: after a grace period (kfree_rcu) when
// the tree is in RCU mode (MT_FLAGS_USE_RCU, mm_mt from v6.3: 3dd4432549415f "mm: enable maple
// tree RCU mode by default"), at once otherwise (v6.1, whose readers all hold mmap_lock). A reader
// that holds an old node therefore reads a consistent sorted snapshot: in RCU mode until its
// read-side section ends, outside RCU mode until the next write, after which it reads freed memory
// (KASAN). One store is done in place, as v6.1 does it: outside RCU mode, moving one pivot of an
// entry into a NULL range that remains (stack expansion under the read lock, v6.1-v6.4, with the
// guard gap). A stack that grows up to its neighbour under the read lock replaces the node: freed
// at once in v6.1 (syzbot's 2023 report against readers under the read lock), after a grace period
// in RCU mode, under readers that hold only mmap_lock (StackRot, CVE-2023-3269); v6.5 grows stacks
// under the write lock (fault.ts).
//
// Simplified against lib/maple_tree.c: one node of any size (no height, no internal nodes, no
// splits or rebalancing: the node comes from the smallest of four size classes that holds every
// entry, as kmalloc would size it); a non-RCU write replaces the node and frees the old one where
// v6.1 rewrites most nodes in place (a reader that the lock should have excluded reads a freed
// node here, a half-rewritten one there: the same bug, made visible to KASAN); no dead-node marks
// (an RCU reader keeps reading the node it loaded, where the kernel's walker notices the node is
// dead and walks again from the root: both read a layout a writer published); mt_find()'s
// rcu_read_lock() is left out (every caller of find_vma() holds mmap_lock, which excludes the
// writers of v6.1, and it would add two preemption points to each lookup); no XA_ZERO_ENTRY, no
// mas_expected_entries() bulk mode, no allocation range search (unmapped_area_topdown() walks the
// VMAs, mmap.ts).
import { ENOMEM } from '../kernel/errno.js';
import { LOCK_STATE_NOT_HELD, lock_is_held_type } from '../kernel/locking/lockdep.js';
import { WARN } from '../kernel/panic.js';
import { lockdep_rcu_suspicious, rcu_read_lock_held } from '../kernel/rcu/update.js';
import { mem } from '../shm/arena.js';
import { kread, kwrite } from './kasan.js';
import { MAPLE_TREE, MM, ULONG_MAX } from './mm_types.js';
import { mmap_assert_locked } from './mmap_lock.js';
import { kfree_rcu, kmem_cache_alloc, kmem_cache_create, kmem_cache_free, virt_to_cache } from './slab.js';
import {
  MAS_NONE,
  MAS_START,
  type MaState,
  type VmaContainer,
  vma_end,
  vma_start,
  vmaContainer,
} from './vma_list.js';

// include/linux/maple_tree.h, v6.1
export const MT_FLAGS_ALLOC_RANGE = 0x01;
export const MT_FLAGS_USE_RCU = 0x02;
export const MT_FLAGS_LOCK_MASK = 0x300;
export const MT_FLAGS_LOCK_EXTERN = 0x300;
// include/linux/mm_types.h MM_MT_FLAGS: v6.1, and from v6.3 (3dd4432549415f) in RCU mode.
export const MM_MT_FLAGS_v6_1 = MT_FLAGS_ALLOC_RANGE | MT_FLAGS_LOCK_EXTERN;
export const MM_MT_FLAGS_v6_3 = MM_MT_FLAGS_v6_1 | MT_FLAGS_USE_RCU;

const u32 = (x: number): number => x >>> 0;

// The node: a count, then three words per entry.
const N_COUNT = 0;
const N_SLOTS = 1;
const SLOT = 3;
const S_INDEX = 0;
const S_LAST = 1;
const S_ENTRY = 2;

/** The size classes, [bytes, objects]: 5, 21, 42 and 170 entries (vm_area_struct has 128 objects). */
const NODE_CLASSES: readonly [number, number][] = [
  [64, 512],
  [256, 512],
  [512, 128],
  [2048, 32],
];
export const maple_node_caches = NODE_CLASSES.map(([bytes, n]) =>
  kmem_cache_create(`maple_node-${bytes}`, bytes / 4, n),
);
/**
 * A struct maple_tree that the kernel keeps on a stack (do_mas_align_munmap()'s mt_detach): the
 * emulator's kernel stacks are JS frames, so it is a small slab object here.
 */
export const maple_tree_cachep = kmem_cache_create('maple_tree', MAPLE_TREE.SIZE, 64);

const capacity = (words: number): number => Math.floor((words - N_SLOTS) / SLOT);
const slotAddr = (node: number, i: number): number => node + N_SLOTS + i * SLOT;

interface Entry {
  index: number;
  last: number;
  entry: number;
}

// lib/maple_tree.c mas_alloc_nodes(), v6.1, for a node with room for `slots` entries; 0 when the
// caches are exhausted.
function mt_alloc_node(slots: number): number {
  for (const c of maple_node_caches) {
    if (capacity(c.objWords) < slots) continue;
    const node = kmem_cache_alloc(c, 'mas_alloc_nodes');
    if (node) return node;
  }
  return 0;
}

const nodeCapacity = (node: number): number => capacity(virt_to_cache(node)!.objWords);

/** The entries of a node, read by a writer (who holds the tree's lock). */
function readEntries(node: number): Entry[] {
  const out: Entry[] = [];
  if (!node) return out;
  const count = kread(node + N_COUNT);
  for (let i = 0; i < count; i++) {
    const s = slotAddr(node, i);
    out.push({ index: u32(kread(s + S_INDEX)), last: u32(kread(s + S_LAST)), entry: kread(s + S_ENTRY) });
  }
  return out;
}

function writeEntries(node: number, entries: readonly Entry[]): void {
  entries.forEach((e, i) => {
    const s = slotAddr(node, i);
    kwrite(s + S_INDEX, e.index);
    kwrite(s + S_LAST, e.last);
    kwrite(s + S_ENTRY, e.entry);
  });
  kwrite(node + N_COUNT, entries.length);
}

// --- flags and locks --------------------------------------------------------------------------

// include/linux/maple_tree.h mt_init_flags(), v6.1
export function mt_init_flags(mt: number, flags: number): void {
  kwrite(mt + MAPLE_TREE.ma_flags, flags);
  kwrite(mt + MAPLE_TREE.ma_root, 0);
}

// include/linux/maple_tree.h mt_set_external_lock(), v6.1 (CONFIG_LOCKDEP: the lock is recorded)
export function mt_set_external_lock(mt: number, lock: number): void {
  kwrite(mt + MAPLE_TREE.ma_external_lock, lock);
}

// include/linux/maple_tree.h mt_in_rcu(), v6.1
export function mt_in_rcu(mt: number): boolean {
  return (kread(mt + MAPLE_TREE.ma_flags) & MT_FLAGS_USE_RCU) !== 0;
}

/** mt_lock_is_held(): lock_is_held(mt->ma_external_lock); UNKNOWN (true) without lockdep. */
function mt_lock_is_held(mt: number): boolean {
  const lock = kread(mt + MAPLE_TREE.ma_external_lock);
  return lock === 0 || lock_is_held_type(lock, -1) !== LOCK_STATE_NOT_HELD;
}

// lib/maple_tree.c mt_locked(), v6.1 (every tree here has an external lock)
function mt_locked(mt: number): boolean {
  return mt_lock_is_held(mt);
}

// include/linux/maple_tree.h mt_clear_in_rcu(), v6.1: the writer holds the external lock.
export function mt_clear_in_rcu(mt: number): void {
  if (!mt_in_rcu(mt)) return;
  if (!mt_lock_is_held(mt)) WARN('include/linux/maple_tree.h:mt_clear_in_rcu');
  kwrite(mt + MAPLE_TREE.ma_flags, kread(mt + MAPLE_TREE.ma_flags) & ~MT_FLAGS_USE_RCU);
}

// include/linux/maple_tree.h mt_set_in_rcu(), v6.1
export function mt_set_in_rcu(mt: number): void {
  if (mt_in_rcu(mt)) return;
  if (!mt_lock_is_held(mt)) WARN('include/linux/maple_tree.h:mt_set_in_rcu');
  kwrite(mt + MAPLE_TREE.ma_flags, kread(mt + MAPLE_TREE.ma_flags) | MT_FLAGS_USE_RCU);
}

// lib/maple_tree.c mas_root(), v6.1: rcu_dereference_check(mt->ma_root, mt_locked(mt)), a reader's
// load of the published node.
export function mas_root(mt: number): number {
  if (!rcu_read_lock_held() && !mt_locked(mt))
    lockdep_rcu_suspicious('lib/maple_tree.c:mas_root', 'suspicious rcu_dereference_check() usage!');
  return kread(mt + MAPLE_TREE.ma_root);
}

// lib/maple_tree.c mt_root_locked(), v6.1: rcu_dereference_protected(mt->ma_root, mt_locked(mt)),
// the writer's load.
function mt_root_locked(mt: number): number {
  if (!mt_locked(mt))
    lockdep_rcu_suspicious(
      'lib/maple_tree.c:mt_root_locked',
      'suspicious rcu_dereference_protected() usage!',
    );
  return kread(mt + MAPLE_TREE.ma_root);
}

// lib/maple_tree.c mas_free() / ma_free_rcu(), v6.1: a node no reader may reach any more (it is no
// longer published) goes after a grace period in RCU mode, at once otherwise.
function mas_free(mt: number, node: number): void {
  const c = virt_to_cache(node)!;
  if (mt_in_rcu(mt)) kfree_rcu(c, node);
  else kmem_cache_free(c, node, 'mas_free');
}

// --- reading ------------------------------------------------------------------------------------

// lib/maple_tree.c mtree_range_walk(), v6.1, down the one node: the first slot whose range ends
// at or after `index` (count when none).
function mtree_range_walk(node: number, index: number, count = kread(node + N_COUNT)): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const last = u32(kread(slotAddr(node, mid) + S_LAST));
    if (last < index) lo = mid + 1;
    else {
      hi = mid;
      walkLast = last;
    }
  }
  return lo;
}

/**
 * The pivot of the slot mtree_range_walk() answered, when it is not `count`: the search compared
 * it last when it settled on that slot, so mas_find() need not load it again (one load, as the
 * kernel's walk). Module state is per CPU thread, and nothing runs between the two.
 */
let walkLast = 0;

/** MA_STATE(mas, mt, index, index), v6.1 */
export function mas_init(mt: number, index: number): MaState {
  return { mt, index: u32(index), last: u32(index), node: 0, offset: MAS_START, alloc: [] };
}

// lib/maple_tree.c mas_find(), v6.1: on the first call the entry at or after mas->index, then the
// next one each time, up to `max`; mas->index/last become the entry's range. A walk keeps the
// node it loaded (mas->node) and reads it again at every step.
export function mas_find(mas: MaState, max: number): number {
  if (mas.offset === MAS_NONE) return 0;
  let off: number;
  let count: number;
  if (mas.offset === MAS_START) {
    const node = mas_root(mas.mt);
    if (!node) {
      mas.offset = MAS_NONE;
      return 0;
    }
    mas.node = node;
    count = kread(node + N_COUNT);
    off = mtree_range_walk(node, mas.index, count);
  } else {
    off = mas.offset + 1;
    count = kread(mas.node + N_COUNT);
  }
  const node = mas.node;
  if (off >= count) {
    mas.offset = MAS_NONE;
    return 0;
  }
  const s = slotAddr(node, off);
  const index = u32(kread(s + S_INDEX));
  if (index > u32(max)) {
    mas.offset = MAS_NONE;
    return 0;
  }
  const walked = mas.offset === MAS_START;
  mas.offset = off;
  mas.index = index;
  mas.last = walked ? walkLast : u32(kread(s + S_LAST));
  return kread(s + S_ENTRY);
}

// lib/maple_tree.c mas_prev(), v6.1, from a fresh walk: the entry before the one at or after
// mas->index, if it ends at or above `min`.
export function mas_prev(mas: MaState, min: number): number {
  const node = mas_root(mas.mt);
  if (!node) return 0;
  const off = mtree_range_walk(node, mas.index) - 1;
  if (off < 0) return 0;
  const s = slotAddr(node, off);
  const last = u32(kread(s + S_LAST));
  if (last < u32(min)) return 0;
  mas.node = node;
  mas.offset = off;
  mas.index = u32(kread(s + S_INDEX));
  mas.last = last;
  return kread(s + S_ENTRY);
}

// lib/maple_tree.c mt_find(), v6.1: the first entry that ends at or after `index` and starts at or
// below `max` (its rcu_read_lock() is left out: see the header).
export function mt_find(mt: number, index: number, max: number): number {
  const node = mas_root(mt);
  if (!node) return 0;
  const off = mtree_range_walk(node, u32(index));
  if (off >= kread(node + N_COUNT)) return 0;
  const s = slotAddr(node, off);
  return u32(kread(s + S_INDEX)) <= u32(max) ? kread(s + S_ENTRY) : 0;
}

/** The tree's entries (a checker's walk for tests: it reads the published node). */
export function mt_entries(mt: number): { index: number; last: number; entry: number }[] {
  return readEntries(kread(mt + MAPLE_TREE.ma_root));
}

// --- writing ------------------------------------------------------------------------------------

/** The entries after storing `entry` (0: erase) over [index, last]: what a maple tree store does. */
function rangeStore(entries: readonly Entry[], index: number, last: number, entry: number): Entry[] {
  const out: Entry[] = [];
  for (const e of entries) {
    if (e.last < index || e.index > last) {
      out.push(e);
      continue;
    }
    // The parts of an overlapped range outside [index, last] keep their entry.
    if (e.index < index) out.push({ index: e.index, last: index - 1, entry: e.entry });
    if (e.last > last) out.push({ index: last + 1, last: e.last, entry: e.entry });
  }
  if (entry) out.push({ index, last, entry });
  return out.sort((a, b) => a.index - b.index);
}

/**
 * The one store done in place outside RCU mode (mas_wr_slot_store()'s pivot update): one entry's
 * start or end moves and the NULL range on that side remains. The slot whose word changes, or -1.
 */
function pivotOnlyMove(
  old: readonly Entry[],
  next: readonly Entry[],
): { at: number; word: number; value: number } | null {
  if (old.length !== next.length) return null;
  let found: { at: number; word: number; value: number } | null = null;
  for (let i = 0; i < old.length; i++) {
    const [a, b] = [old[i]!, next[i]!];
    if (a.entry !== b.entry) return null;
    if (a.index === b.index && a.last === b.last) continue;
    if (found || (a.index !== b.index && a.last !== b.last)) return null;
    if (a.index !== b.index) {
      const floor = i > 0 ? old[i - 1]!.last + 1 : 0; // the NULL range below starts here
      if (a.index <= floor || b.index <= floor) return null;
      found = { at: i, word: S_INDEX, value: b.index };
    } else {
      const ceil = i + 1 < old.length ? old[i + 1]!.index - 1 : ULONG_MAX; // ... and above ends here
      if (a.last >= ceil || b.last >= ceil) return null;
      found = { at: i, word: S_LAST, value: b.last };
    }
  }
  return found;
}

// lib/maple_tree.c mas_preallocate(), v6.1: the nodes `stores` writes may need, taken now so that
// the writes cannot fail. 0 or -ENOMEM (nothing kept).
export function mas_preallocate(mas: MaState, stores = 1): number {
  const root = kread(mas.mt + MAPLE_TREE.ma_root);
  const room = (root ? kread(root + N_COUNT) : 0) + 2 * stores;
  for (let i = 0; i < stores; i++) {
    const node = mt_alloc_node(room);
    if (!node) {
      mas_destroy(mas);
      return -ENOMEM;
    }
    mas.alloc.push(node);
  }
  return 0;
}

// lib/maple_tree.c mas_destroy(), v6.1: the preallocated nodes no store used (never published).
export function mas_destroy(mas: MaState): void {
  for (const node of mas.alloc.splice(0)) kmem_cache_free(virt_to_cache(node)!, node, 'mas_destroy');
}

// lib/maple_tree.c mas_store_gfp() / mas_store_prealloc(), v6.1: `entry` (0: erase) over
// [mas->index, mas->last]. Copy-on-write: a new node, published, the old one freed (mas_free()).
// A preallocated node is used first. 0 or -ENOMEM (nothing changed).
export function mas_store_gfp(mas: MaState, entry: number): number {
  const mt = mas.mt;
  const old = mt_root_locked(mt);
  const entries = readEntries(old);
  const next = rangeStore(entries, mas.index, mas.last, entry);
  mas.node = 0;
  mas.offset = MAS_START;
  if (old && !mt_in_rcu(mt)) {
    const move = pivotOnlyMove(entries, next);
    if (move) {
      kwrite(slotAddr(old, move.at) + move.word, move.value);
      return 0;
    }
  }
  // The last entry erased: the tree is empty again (ma_root NULL), as the maple tree collapses it.
  let node = 0;
  if (next.length) {
    const at = mas.alloc.findIndex((n) => nodeCapacity(n) >= next.length);
    if (at >= 0) node = mas.alloc.splice(at, 1)[0]!;
    else node = mt_alloc_node(next.length);
    if (!node) return -ENOMEM;
    writeEntries(node, next);
  }
  // rcu_assign_pointer(): the node is complete before a reader can load it.
  Atomics.store(mem.i32, mt + MAPLE_TREE.ma_root, node);
  if (old) mas_free(mt, old);
  return 0;
}

/** mas_store_prealloc(), v6.1: mas_store_gfp() with the nodes mas_preallocate() took. */
export function mas_store_prealloc(mas: MaState, entry: number): void {
  if (mas_store_gfp(mas, entry)) throw new Error('mas_store_prealloc: no preallocated node');
}

// lib/maple_tree.c __mt_destroy(), v6.1: the tree is emptied, its node freed (after a grace period
// in RCU mode: mte_destroy_walk()'s call_rcu()), and its flags cleared.
export function __mt_destroy(mt: number): void {
  const root = mt_root_locked(mt);
  Atomics.store(mem.i32, mt + MAPLE_TREE.ma_root, 0); // rcu_assign_pointer(mt->ma_root, NULL)
  if (root) {
    const c = virt_to_cache(root)!;
    if (mt_in_rcu(mt)) kfree_rcu(c, root);
    else kmem_cache_free(c, root, 'mt_destroy_walk');
  }
  kwrite(mt + MAPLE_TREE.ma_flags, 0);
}

// ---------------------------------------------------------------------------------------------
// The VMA container of v6.1+: mm->mm_mt

const mmMt = (mm: number): number => mm + MM.mm_mt;

/**
 * kernel/fork.c mm_init(): mt_init_flags(&mm->mm_mt, MM_MT_FLAGS) and mt_set_external_lock(
 * &mm->mm_mt, &mm->mmap_lock). kernel/fork.ts's mm_alloc() does not call the container, so the
 * tree is set up here on its first write (a zeroed tree is empty: readers need nothing).
 */
function mm_mt_init(mm: number, flags: number): void {
  const mt = mmMt(mm);
  if (kread(mt + MAPLE_TREE.ma_flags) || kread(mt + MAPLE_TREE.ma_root)) return;
  mt_init_flags(mt, flags);
  mt_set_external_lock(mt, mm + MM.mmap_sem);
}

// kernel/fork.c mm_init(), v6.1: mt_init_flags(&mm->mm_mt, MM_MT_FLAGS)
export function mm_init_mt_v6_1(mm: number): void {
  mm_mt_init(mm, MM_MT_FLAGS_v6_1);
}

// kernel/fork.c mm_init(), v6.3 (3dd4432549415f): MM_MT_FLAGS has MT_FLAGS_USE_RCU
export function mm_init_mt_v6_3(mm: number): void {
  mm_mt_init(mm, MM_MT_FLAGS_v6_3);
}

/** The mm's tree, set up for a write (see mm_mt_init()). */
function mm_mt_for_write(mm: number): number {
  vmaContainer.mm_init(mm);
  return mmMt(mm);
}

// mm/mmap.c find_vma(), v6.1
export function find_vma_v6_1(mm: number, addr: number): number {
  mmap_assert_locked(mm);
  return mt_find(mmMt(mm), addr, ULONG_MAX);
}

// mm/mmap.c find_vma_prev(), v6.1: mas_walk(addr); *pprev = mas_prev(&mas, 0); and when addr is in a
// gap, the VMA after it (mas_next()). One walk down the node gives both here.
export function find_vma_prev_v6_1(mm: number, addr: number): { vma: number; prev: number } {
  const node = mas_root(mmMt(mm));
  if (!node) return { vma: 0, prev: 0 };
  const off = mtree_range_walk(node, u32(addr));
  const vma = off < kread(node + N_COUNT) ? kread(slotAddr(node, off) + S_ENTRY) : 0;
  const prev = off > 0 ? kread(slotAddr(node, off - 1) + S_ENTRY) : 0;
  return { vma, prev };
}

/** The VMA after `vma`: v6.1 code's find_vma(mm, vma->vm_end) / vma_next(&vmi). */
function vma_after_v6_1(mm: number, vma: number): number {
  return mas_find(mas_init(mmMt(mm), vma_end(vma)), ULONG_MAX);
}

/** The VMA before `vma`: v6.1 code's MA_STATE(mas, &mm->mm_mt, vma->vm_start) + mas_prev(&mas, 0). */
function vma_before_v6_1(mm: number, vma: number): number {
  return mas_prev(mas_init(mmMt(mm), vma_start(vma)), 0);
}

/** MA_STATE(mas, mt, vma->vm_end, vma->vm_end), as v6.1's unmap_vmas() and free_pgtables() start. */
function mas_after_vma_v6_1(mt: number, vma: number): MaState {
  return mas_init(mt, vma_end(vma));
}

// mm/mmap.c vma_mas_store(), v6.1
export function vma_mas_store_v6_1(mas: MaState, vma: number): void {
  mas.index = vma_start(vma);
  mas.last = vma_end(vma) - 1;
  mas_store_prealloc(mas, vma);
}

// mm/mmap.c vma_link(), v6.1: mas_preallocate(), vma_mas_store(), map_count++ (file rmap is not
// modelled). 0 or -ENOMEM.
export function vma_link_v6_1(mm: number, vma: number): number {
  const mas = mas_init(mm_mt_for_write(mm), 0);
  if (mas_preallocate(mas)) return -ENOMEM;
  vma_mas_store_v6_1(mas, vma);
  mas_destroy(mas);
  Atomics.add(mem.i32, mm + MM.map_count, 1);
  return 0;
}

/** __vma_adjust()'s mas_preallocate(&mas, vma, GFP_KERNEL), v6.1: room for two stores. */
function vma_prealloc_v6_1(mm: number): MaState | null {
  const mas = mas_init(mm_mt_for_write(mm), 0);
  return mas_preallocate(mas, 2) ? null : mas;
}

// mm/mmap.c __vma_adjust(), v6.1: the inserted half: vma_mas_store(insert, &mas); mm->map_count++
export function __insert_vm_struct_v6_1(mas: MaState, mm: number, vma: number): void {
  vma_mas_store_v6_1(mas, vma);
  Atomics.add(mem.i32, mm + MM.map_count, 1);
}

// mm/mmap.c munmap_sidetree(), v6.1: `vma` into the detached tree (the locked_vm accounting is
// do_munmap()'s, mmap.ts).
function munmap_sidetree(vma: number, mas_detach: MaState): number {
  mas_detach.index = vma_start(vma);
  mas_detach.last = vma_end(vma) - 1;
  return mas_store_gfp(mas_detach, vma);
}

// mm/mmap.c do_mas_align_munmap(), v6.1, its detaching part: the VMAs from `vma` up to `end` go
// into mt_detach, then one store erases their range from the mm's tree ("point of no return") and
// map_count drops by their number. Returns mt_detach, or -ENOMEM with nothing changed.
export function detach_vmas_v6_1(mm: number, vma: number, _prev: number, end: number): number {
  const mt = mm_mt_for_write(mm);
  const mas = mas_init(mt, vma_start(vma));
  if (mas_preallocate(mas)) return -ENOMEM;
  const mt_detach = kmem_cache_alloc(maple_tree_cachep, 'do_mas_align_munmap');
  if (!mt_detach) {
    mas_destroy(mas);
    return -ENOMEM;
  }
  mt_init_flags(mt_detach, kread(mt + MAPLE_TREE.ma_flags) & MT_FLAGS_LOCK_MASK);
  mt_set_external_lock(mt_detach, mm + MM.mmap_sem);
  const mas_detach = mas_init(mt_detach, 0);
  const start = vma_start(vma);
  const walk = mas_after_vma_v6_1(mt, vma);
  let count = 0;
  for (let next = vma; next; next = mas_find(walk, u32(end - 1))) {
    if (munmap_sidetree(next, mas_detach)) {
      __mt_destroy(mt_detach);
      kmem_cache_free(maple_tree_cachep, mt_detach, 'do_mas_align_munmap');
      mas_destroy(mas);
      return -ENOMEM;
    }
    count++;
  }
  // Point of no return
  mas.index = start;
  mas.last = u32(end - 1);
  mas_store_prealloc(mas, 0);
  mas_destroy(mas);
  Atomics.sub(mem.i32, mm + MM.map_count, count);
  return mt_detach;
}

// mm/mmap.c do_mas_align_munmap(), v6.1: __mt_destroy(&mt_detach) once remove_mt() freed its VMAs.
export function detached_destroy_v6_1(mt_detach: number): void {
  __mt_destroy(mt_detach);
  kmem_cache_free(maple_tree_cachep, mt_detach, 'do_mas_align_munmap');
}

const TREE_OPS = {
  mm_mt: mmMt,
  mas_init,
  mas_after_vma: mas_after_vma_v6_1,
  mas_find,
  find_vma: find_vma_v6_1,
  find_vma_prev: find_vma_prev_v6_1,
  vma_after: vma_after_v6_1,
  vma_before: vma_before_v6_1,
  vma_link: vma_link_v6_1,
  vma_prealloc: vma_prealloc_v6_1,
  vma_mas_store: vma_mas_store_v6_1,
  __insert_vm_struct: __insert_vm_struct_v6_1,
  mas_destroy,
  detach_vmas_to_be_unmapped: detach_vmas_v6_1,
  detached_destroy: detached_destroy_v6_1,
};

/** v6.1 (d4af56c5c7c6 "mm: start tracking VMAs with maple tree"): mm->mm_mt, not in RCU mode. */
export const MAPLE_TREE_V6_1: VmaContainer = {
  name: 'maple tree (mm->mm_mt), not in RCU mode',
  mm_init: mm_init_mt_v6_1,
  ...TREE_OPS,
};

/** v6.3+ (3dd4432549415f "mm: enable maple tree RCU mode by default"): nodes freed after a grace period. */
export const MAPLE_TREE_V6_3: VmaContainer = {
  name: 'maple tree (mm->mm_mt) in RCU mode',
  mm_init: mm_init_mt_v6_3,
  ...TREE_OPS,
};
