// mm/rmap.c and mm/shmem.c: what page->mapping points at. An anonymous page belongs to an
// anon_vma, a shared anonymous page to the shmem file behind its MAP_SHARED mapping. The reverse-map
// counters (_mapcount starts at -1: unmapped) are the page side of every PTE.
//
// Simplified against the kernel:
//  - anon_vma: one refcounted object per fork tree. A VMA points at it (vma->anon_vma); a split
//    half and a forked child's copy point at the same object and take a reference. There are no
//    anon_vma_chains, no per-child anon_vma and no interval tree: no rmap walker exists here, so
//    what remains is the object's lifetime and its rwsem (expand_downwards, vma_adjust and
//    unlink_anon_vmas take it). The kernel's cache is SLAB_TYPESAFE_BY_RCU; this one is plain.
//  - shmem: shmem_zero_setup() gives each MAP_SHARED|MAP_ANONYMOUS mapping a "file": the struct
//    file's f_count, the inode's size and its page cache (a direct array of SHMEM_MAX_PAGES slots
//    under the mapping's tree_lock) in one object. No swap, no i_mmap, no page lock.
import { down_write, init_rwsem, up_write } from '../kernel/locking/rwsem.js';
import { spin_lock, spin_lock_init, spin_unlock } from '../kernel/locking/spinlock.js';
import { mem } from '../shm/arena.js';
import { defineStruct } from '../shm/layout.js';
import { kread, kread_locked, kwrite } from './kasan.js';
import { MM, VMA } from './mm_types.js';
import {
  __GFP_ZERO,
  alloc_page,
  GFP_HIGHUSER_MOVABLE,
  get_page,
  PAGE,
  PG_anon,
  put_page,
} from './page_alloc.js';
import { kmem_cache_alloc, kmem_cache_create, kmem_cache_free } from './slab.js';

/** include/linux/page-flags.h PG_swapbacked (page_alloc.ts has no bit for it yet). */
export const PG_swapbacked = 1 << 2;

export const ANON_VMA = defineStruct('anon_vma', ['rwsem[6]', 'refcount']);
export const anon_vma_cachep = kmem_cache_create('anon_vma', ANON_VMA.SIZE, 128);

/** Pages a shared anonymous mapping may have (its page cache is a direct array). */
export const SHMEM_MAX_PAGES = 128;
export const SHMEM = defineStruct('shmem_inode_info', [
  'f_count',
  'size', // i_size in pages
  'nrpages',
  'tree_lock',
  `pages[${SHMEM_MAX_PAGES}]`,
]);
export const shmem_inode_cachep = kmem_cache_create('shmem_inode_cache', SHMEM.SIZE, 32);

const ENOMEM = 12;

// ---------------------------------------------------------------------------------------------
// anon_vma

// include/linux/rmap.h anon_vma_lock_write()
export function anon_vma_lock_write(anon_vma: number): void {
  down_write(anon_vma + ANON_VMA.rwsem);
}

// include/linux/rmap.h anon_vma_unlock_write()
export function anon_vma_unlock_write(anon_vma: number): void {
  up_write(anon_vma + ANON_VMA.rwsem);
}

// mm/rmap.c anon_vma_alloc(), v4.14
function anon_vma_alloc(): number {
  const anon_vma = kmem_cache_alloc(anon_vma_cachep, 'anon_vma_alloc');
  if (!anon_vma) return 0;
  init_rwsem(anon_vma + ANON_VMA.rwsem, '&anon_vma->rwsem');
  Atomics.store(mem.i32, anon_vma + ANON_VMA.refcount, 1);
  return anon_vma;
}

// include/linux/rmap.h get_anon_vma()
export function get_anon_vma(anon_vma: number): void {
  Atomics.add(mem.i32, anon_vma + ANON_VMA.refcount, 1);
}

// include/linux/rmap.h put_anon_vma() + mm/rmap.c __put_anon_vma(), v4.14
export function put_anon_vma(anon_vma: number): void {
  if (Atomics.sub(mem.i32, anon_vma + ANON_VMA.refcount, 1) === 1) {
    kmem_cache_free(anon_vma_cachep, anon_vma, '__put_anon_vma');
  }
}

// mm/rmap.c __anon_vma_prepare(), v4.14: the first anonymous fault (or stack expansion) of a VMA,
// under mmap_sem for reading. find_mergeable_anon_vma() is not modelled: always a new one.
function __anon_vma_prepare(vma: number): number {
  const mm = kread(vma + VMA.vm_mm);
  const anon_vma = anon_vma_alloc();
  if (!anon_vma) return -ENOMEM;
  anon_vma_lock_write(anon_vma);
  // page_table_lock to serialize against concurrent expand_stack()s and faults
  spin_lock(mm + MM.page_table_lock);
  let allocated = anon_vma;
  if (!kread(vma + VMA.anon_vma)) {
    kwrite(vma + VMA.anon_vma, anon_vma);
    allocated = 0;
  }
  spin_unlock(mm + MM.page_table_lock);
  anon_vma_unlock_write(anon_vma);
  if (allocated) put_anon_vma(allocated);
  return 0;
}

// include/linux/rmap.h anon_vma_prepare()
export function anon_vma_prepare(vma: number): number {
  if (kread(vma + VMA.anon_vma)) return 0;
  return __anon_vma_prepare(vma);
}

// mm/rmap.c anon_vma_clone(), v4.14: `dst` is a copy of `src` (split_vma), sharing its anon_vma.
export function anon_vma_clone(dst: number, src: number): number {
  const anon_vma = kread(src + VMA.anon_vma);
  kwrite(dst + VMA.anon_vma, anon_vma);
  if (anon_vma) get_anon_vma(anon_vma);
  return 0;
}

// mm/rmap.c anon_vma_fork(), v4.14, reduced: the child's VMA shares the parent's anon_vma (the
// kernel gives it an anon_vma of its own, chained under the parent's).
export function anon_vma_fork(vma: number, pvma: number): number {
  kwrite(vma + VMA.anon_vma, 0);
  if (!kread(pvma + VMA.anon_vma)) return 0; // the parent has no anonymous pages here
  return anon_vma_clone(vma, pvma);
}

// mm/rmap.c unlink_anon_vmas(), v4.14: the VMA is going; drop its reference under the lock (the
// interval-tree removal the lock protects is not modelled). vma->anon_vma stays, as in the kernel:
// the VMA is freed next.
export function unlink_anon_vmas(vma: number): void {
  const anon_vma = kread(vma + VMA.anon_vma);
  if (!anon_vma) return;
  anon_vma_lock_write(anon_vma);
  anon_vma_unlock_write(anon_vma);
  put_anon_vma(anon_vma);
}

// ---------------------------------------------------------------------------------------------
// page-side counters

// mm/rmap.c page_add_new_anon_rmap() + __page_set_anon_rmap(), v4.14. page->mapping is the VMA,
// not the kernel's anon_vma|PAGE_MAPPING_ANON: only dump_page() reads it, and page_tables.test.ts
// checks this value.
export function page_add_new_anon_rmap(page: number, vma: number, address: number): void {
  const i32 = mem.i32;
  Atomics.store(i32, page + PAGE._mapcount, 0);
  i32[page + PAGE.flags]! |= PG_anon | PG_swapbacked;
  i32[page + PAGE.mapping] = vma;
  // linear_page_index(): the faulting caller holds mmap_lock or the VMA's read lock (kread_locked()).
  i32[page + PAGE.index] =
    ((address - (kread_locked(vma + VMA.vm_start) >>> 0)) >>> 12) + kread_locked(vma + VMA.vm_pgoff);
}

// mm/rmap.c page_move_anon_rmap(), v4.14: a reused COW page now belongs to this VMA (its
// anon_vma in the kernel; see page_add_new_anon_rmap).
export function page_move_anon_rmap(page: number, vma: number): void {
  mem.i32[page + PAGE.mapping] = vma;
}

// mm/rmap.c page_add_file_rmap(), v4.14 (atomic_inc_and_test(&page->_mapcount); no stats)
export function page_add_file_rmap(page: number): void {
  Atomics.add(mem.i32, page + PAGE._mapcount, 1);
}

// include/linux/rmap.h page_dup_rmap(): fork's copy of a PTE maps the page once more.
export function page_dup_rmap(page: number): void {
  Atomics.add(mem.i32, page + PAGE._mapcount, 1);
}

// mm/rmap.c page_remove_rmap(), v4.14: atomic_add_negative(-1, &page->_mapcount)
export function page_remove_rmap(page: number): void {
  Atomics.sub(mem.i32, page + PAGE._mapcount, 1);
}

// include/linux/mm.h page_mapcount()
export function page_mapcount(page: number): number {
  return Atomics.load(mem.i32, page + PAGE._mapcount) + 1;
}

// include/linux/page-flags.h PageAnon()
export function PageAnon(page: number): boolean {
  return (mem.i32[page + PAGE.flags]! & PG_anon) !== 0;
}

// ---------------------------------------------------------------------------------------------
// shmem: the file behind a shared anonymous mapping

// mm/shmem.c shmem_zero_setup(), v4.14 (shmem_kernel_file_setup("dev/zero", size) + the VMA's file)
export function shmem_zero_setup(vma: number): number {
  const pages = ((kread(vma + VMA.vm_end) >>> 0) - (kread(vma + VMA.vm_start) >>> 0)) >>> 12;
  if (pages > SHMEM_MAX_PAGES) return -ENOMEM;
  const file = kmem_cache_alloc(shmem_inode_cachep, 'shmem_file_setup');
  if (!file) return -ENOMEM;
  Atomics.store(mem.i32, file + SHMEM.f_count, 1);
  kwrite(file + SHMEM.size, pages);
  spin_lock_init(file + SHMEM.tree_lock, '&mapping->tree_lock');
  kwrite(vma + VMA.vm_file, file);
  kwrite(vma + VMA.vm_pgoff, 0);
  return 0;
}

// include/linux/fs.h get_file()
export function get_file(file: number): void {
  Atomics.add(mem.i32, file + SHMEM.f_count, 1);
}

// mm/shmem.c shmem_evict_inode() via shmem_truncate_range(), v4.14: the page cache lets go.
function shmem_evict_inode(file: number): void {
  for (let i = 0; i < SHMEM_MAX_PAGES; i++) {
    const page = kread(file + SHMEM.pages + i);
    if (!page) continue;
    kwrite(file + SHMEM.pages + i, 0);
    mem.i32[page + PAGE.mapping] = 0; // __delete_from_page_cache()
    put_page(page, 'shmem_evict_inode');
  }
  kwrite(file + SHMEM.nrpages, 0);
  kmem_cache_free(shmem_inode_cachep, file, 'shmem_evict_inode');
}

// fs/file_table.c fput(), v4.14: the last reference evicts the inode (here at once, not via
// task_work).
export function fput(file: number): void {
  if (Atomics.sub(mem.i32, file + SHMEM.f_count, 1) === 1) shmem_evict_inode(file);
}

/** Pages in the file's page cache (mapping->nrpages). */
export function shmem_nrpages(file: number): number {
  return kread(file + SHMEM.nrpages);
}

/** The cached page at `index`, or 0 (find_get_entry() without the reference). */
export function shmem_find_page(file: number, index: number): number {
  return index < SHMEM_MAX_PAGES ? kread(file + SHMEM.pages + index) : 0;
}

// mm/shmem.c shmem_getpage_gfp(SGP_CACHE), v4.14, reduced: the page at `index`, with a reference
// for the caller; a new zeroed page goes into the cache first (its reference is the cache's).
// Returns 0 when out of memory or beyond i_size.
export function shmem_getpage(file: number, index: number): number {
  if (index >= kread(file + SHMEM.size)) return 0;
  let page = lookup_get(file, index);
  if (page) return page;
  // mapping_gfp_mask(): GFP_HIGHUSER_MOVABLE; zeroed as clear_highpage() does for a new page
  const fresh = alloc_page(GFP_HIGHUSER_MOVABLE | __GFP_ZERO, 'shmem_alloc_page');
  if (!fresh) return 0;
  spin_lock(file + SHMEM.tree_lock);
  page = kread(file + SHMEM.pages + index);
  if (!page) {
    page = fresh;
    mem.i32[page + PAGE.flags]! |= PG_swapbacked; // __SetPageSwapBacked()
    mem.i32[page + PAGE.mapping] = file;
    mem.i32[page + PAGE.index] = index;
    kwrite(file + SHMEM.pages + index, page);
    kwrite(file + SHMEM.nrpages, kread(file + SHMEM.nrpages) + 1);
  }
  get_page(page);
  spin_unlock(file + SHMEM.tree_lock);
  if (page !== fresh) put_page(fresh, 'shmem_getpage'); // lost the race to add_to_page_cache
  return page;
}

function lookup_get(file: number, index: number): number {
  spin_lock(file + SHMEM.tree_lock);
  const page = kread(file + SHMEM.pages + index);
  if (page) get_page(page);
  spin_unlock(file + SHMEM.tree_lock);
  return page;
}
