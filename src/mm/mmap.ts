// mm/mmap.c (v4.14): anonymous mmap (private and shared), munmap with VMA splitting, stack
// expansion and the populate of MAP_LOCKED/MAP_POPULATE. Era-neutral entry points: every VMA
// lookup, walk and container change goes through vma_list.ts, which hands it to the era's
// container (the vm_next list up to v6.0, the maple tree from v6.1: maple_tree.ts), so these
// v4.14 algorithms run on either; exit_mmap's eras are exit_mmap.ts, fork's dup_mmap.ts.
//
// Simplified against the kernel: no vma_merge() (a new mapping or an mprotect()ed range is always
// a VMA of its own, so map_count can be higher than the kernel's); anonymous mappings only (no
// struct file: without MAP_ANONYMOUS, -EBADF); the caller is privileged (no RLIMIT_MEMLOCK, no
// overcommit accounting: VM_ACCOUNT is set but nothing is charged; RLIMIT_STACK is 8 MiB); mlock
// is the VM_LOCKED flag and locked_vm (pages carry no PG_mlocked, there is no LRU); one mmap_base,
// no randomization and no bottom-up fallback in get_unmapped_area().

import { point } from '../cpu/context.js';
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';
import { EBADF, EFAULT, EINTR, EINVAL, ENOMEM, EPERM } from '../kernel/errno.js';
import { spin_lock, spin_unlock } from '../kernel/locking/spinlock.js';
import { might_sleep } from '../kernel/sched.js';
import { mem } from '../shm/arena.js';
import { unlock_range } from './era_ops.js';
import { kread, kwrite } from './kasan.js';
import { FAULT_FLAG_WRITE, free_pgtables, handle_mm_fault, unmap_vmas, VM_FAULT_ERROR } from './memory.js';
import { munlock_vma_pages_all } from './mlock.js';
import {
  FIRST_USER_ADDRESS,
  MM,
  TASK_SIZE,
  ULONG_MAX,
  USER_PGTABLES_CEILING,
  VM_ACCOUNT,
  VM_EXEC,
  VM_GROWSDOWN,
  VM_LOCKED,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_NORESERVE,
  VM_PFNMAP,
  VM_READ,
  VM_SHARED,
  VM_SOFTDIRTY,
  VM_WRITE,
  VMA,
} from './mm_types.js';
import {
  mmap_read_lock,
  mmap_read_unlock,
  mmap_write_lock_killable,
  mmap_write_unlock,
} from './mmap_lock.js';
import { tlb_finish_mmu, tlb_gather_mmu } from './mmu_gather.js';
import { vm_get_page_prot } from './pgtable.js';
import {
  anon_vma_clone,
  anon_vma_lock_write,
  anon_vma_prepare,
  anon_vma_unlock_write,
  fput,
  get_file,
  shmem_zero_setup,
  unlink_anon_vmas,
} from './rmap.js';
import { kmem_cache_alloc, kmem_cache_free } from './slab.js';
import {
  __insert_vm_struct,
  detach_vmas_to_be_unmapped,
  detached_destroy,
  find_vma,
  find_vma_intersection,
  find_vma_prev,
  for_each_vma,
  type MaState,
  mas_after_vma,
  mas_destroy,
  mas_find,
  mm_mt,
  vma_after,
  vma_before,
  vma_end,
  vma_link,
  vma_mas_store,
  vma_pages,
  vma_prealloc,
  vma_start,
} from './vma_list.js';
import {
  __vm_area_free,
  vm_area_cache,
  vm_area_free,
  vma_attach,
  vma_detach,
  vma_expand_lock,
  vma_lock_init,
  vma_new_lock,
  vma_write_lock,
} from './vma_lock.js';

export { find_vma, find_vma_prev, for_each_vma, for_each_vma_range } from './vma_list.js';

export { vm_area_cachep } from './vma_lock.js';

// include/uapi/asm-generic/mman-common.h, errno-base.h
export const PROT_NONE = 0x0;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_GROWSDOWN = 0x0100;
export const MAP_LOCKED = 0x2000;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_NONBLOCK = 0x10000;

const PAGE_SIZE = 4096;
const PAGE_MASK = ~(PAGE_SIZE - 1);
const u32 = (x: number): number => x >>> 0;
const PAGE_ALIGN = (x: number): number => u32((x + PAGE_SIZE - 1) & PAGE_MASK);
const offset_in_page = (x: number): boolean => (x & (PAGE_SIZE - 1)) !== 0;

/** security/min_addr.c mmap_min_addr (CONFIG_DEFAULT_MMAP_MIN_ADDR = 4096) */
export const mmap_min_addr = 4096;
/** mm/mmap.c stack_guard_gap, v4.14: 256 pages between a stack and the mapping below it */
export const stack_guard_gap = 256 * PAGE_SIZE;
/** arch/x86/mm/mmap.c mmap_base(): TASK_SIZE - MIN_GAP (128 MiB), without randomization */
export const MMAP_BASE = TASK_SIZE - 128 * 1024 * 1024;
/** RLIMIT_STACK's default, 8 MiB (_STK_LIM) */
const RLIMIT_STACK = 8 * 1024 * 1024;

// --trace: function slices (cpu/trace_buffer.ts)
const T = {
  remove_vma: traceFn('remove_vma'),
  do_mmap: traceFn('do_mmap'),
  do_munmap: traceFn('do_munmap'),
  expand_downwards: traceFn('expand_downwards'),
};

// include/linux/mman.h calc_vm_prot_bits()
export function calc_vm_prot_bits(prot: number): number {
  return (
    (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) | (prot & PROT_EXEC ? VM_EXEC : 0)
  );
}

// include/linux/mman.h calc_vm_flag_bits()
function calc_vm_flag_bits(flags: number): number {
  return (flags & MAP_GROWSDOWN ? VM_GROWSDOWN : 0) | (flags & MAP_LOCKED ? VM_LOCKED : 0);
}

// mm/mmap.c vm_stat_account(), v4.14 (total_vm only: data_vm, exec_vm, stack_vm are not kept)
export function vm_stat_account(mm: number, _flags: number, npages: number): void {
  Atomics.add(mem.i32, mm + MM.total_vm, npages);
}

// include/linux/mm.h vm_flags_set(), v6.4: the VMA write-locked first (a plain |= before v6.3, and
// vma_start_write() is empty without per-VMA locks).
export function vm_flags_set(vma: number, flags: number): void {
  vma_write_lock(vma);
  kwrite(vma + VMA.vm_flags, kread(vma + VMA.vm_flags) | flags);
}

// mm/mmap.c vma_set_page_prot(), v4.14 (no write notification: no dirty accounting here)
export function vma_set_page_prot(vma: number): void {
  kwrite(vma + VMA.vm_page_prot, vm_get_page_prot(kread(vma + VMA.vm_flags)));
}

// include/linux/mm.h vm_start_gap(): a stack keeps stack_guard_gap free below it.
function vm_start_gap(vma: number): number {
  const start = vma_start(vma);
  if (!(kread(vma + VMA.vm_flags) & VM_GROWSDOWN)) return start;
  return start > stack_guard_gap ? start - stack_guard_gap : 0;
}

/**
 * An anonymous private mapping at a fixed address: mmap_region() reduced to a new VMA linked into
 * the mm's container. The caller holds mmap_sem for writing. Returns the VMA, or 0 (the range is
 * not free, or no memory).
 */
export function mmap_anon_fixed(mm: number, addr: number, len: number, vm_flags: number): number {
  const end = u32(addr + len);
  if (find_vma_intersection(mm, addr, end)) return 0;
  const vma = vm_area_alloc(mm, addr, end, vm_flags, addr >>> 12);
  if (!vma) return 0;
  vma_new_lock(vma); // 33313a747e81 (6.4.3, v6.5): locked before it becomes visible; era's choice
  if (vma_link(mm, vma)) {
    __vm_area_free(vma);
    return 0;
  }
  vma_attach(vma);
  vm_stat_account(mm, vm_flags, len >>> 12);
  // mmap_region()'s vm_flags_set(vma, VM_SOFTDIRTY) without the flag: in 6.4.0 this write-locks
  // the VMA, after the store; a no-op where vma_new_lock() took the lock.
  vma_write_lock(vma);
  return vma;
}

/** kmem_cache_zalloc(vm_area_cachep) with mmap_region()'s field setup. */
function vm_area_alloc(mm: number, start: number, end: number, vm_flags: number, pgoff: number): number {
  const cachep = vm_area_cache();
  const vma = kmem_cache_alloc(cachep, 'vm_area_alloc');
  if (!vma) return 0;
  // vma_init(): memset(vma, 0, ...) (a SLAB_TYPESAFE_BY_RCU cache hands the object back as it was)
  for (let i = 0; i < VMA.SIZE; i++) kwrite(vma + i, 0);
  kwrite(vma + VMA.vm_start, start);
  kwrite(vma + VMA.vm_end, end);
  kwrite(vma + VMA.vm_mm, mm);
  kwrite(vma + VMA.vm_flags, vm_flags);
  kwrite(vma + VMA.vm_page_prot, vm_get_page_prot(vm_flags));
  kwrite(vma + VMA.vm_pgoff, pgoff);
  if (vma_lock_init(vma)) {
    kmem_cache_free(cachep, vma, 'vm_area_alloc');
    return 0;
  }
  return vma;
}

// mm/mmap.c remove_vma(), v6.1: close, fput, free the VMA. (v4.14's also returned vma->vm_next,
// read before the free; its callers here take the next VMA from their walk first.) v6.4's
// `unreachable` (exit_mmap): __vm_area_free() at once instead of vm_area_free()'s call_rcu().
export function remove_vma(vma: number, unreachable = false): void {
  traceBegin(T.remove_vma);
  try {
    might_sleep('mm/mmap.c:remove_vma');
    const file = kread(vma + VMA.vm_file);
    if (file) fput(file);
    if (unreachable) __vm_area_free(vma);
    else vm_area_free(vma);
  } finally {
    traceEnd(T.remove_vma);
  }
}

// mm/mmap.c unmapped_area_topdown(), v4.14, as a walk of the VMAs (no free-gap augmentation, in
// either container): the highest gap of `length` bytes between low_limit and high_limit, keeping
// each stack's guard gap.
function unmapped_area_topdown(mm: number, length: number, low_limit: number, high_limit: number): number {
  const vmas = [...for_each_vma(mm)];
  for (let i = vmas.length; i >= 0; i--) {
    const gap_start = Math.max(i > 0 ? vma_end(vmas[i - 1]!) : 0, low_limit);
    const gap_end = Math.min(i < vmas.length ? vm_start_gap(vmas[i]!) : TASK_SIZE, high_limit);
    if (gap_end >= gap_start + length) return gap_end - length;
  }
  return -ENOMEM;
}

// arch/x86/kernel/sys_x86_64.c arch_get_unmapped_area_topdown(), v4.14: MAP_FIXED, then the
// hint if it is free, then the highest free gap below mmap_base.
function arch_get_unmapped_area_topdown(mm: number, addr: number, len: number, flags: number): number {
  if (len > TASK_SIZE - mmap_min_addr) return -ENOMEM;
  if (flags & MAP_FIXED) return addr;
  if (addr) {
    addr = PAGE_ALIGN(addr);
    const { vma, prev } = find_vma_prev(mm, addr);
    if (
      TASK_SIZE - len >= addr &&
      addr >= mmap_min_addr &&
      (!vma || addr + len <= vm_start_gap(vma)) &&
      (!prev || addr >= vma_end(prev))
    ) {
      return addr;
    }
  }
  return unmapped_area_topdown(mm, len, PAGE_SIZE, MMAP_BASE);
}

// mm/mmap.c get_unmapped_area(), v4.14 (anonymous: no file->f_op->get_unmapped_area)
export function get_unmapped_area(mm: number, addr: number, len: number, flags: number): number {
  if (len > TASK_SIZE) return -ENOMEM;
  addr = arch_get_unmapped_area_topdown(mm, u32(addr), len, flags);
  if (addr < 0) return addr;
  if (addr > TASK_SIZE - len) return -ENOMEM;
  if (offset_in_page(addr)) return -EINVAL;
  // security_mmap_addr() -> cap_mmap_addr(): below mmap_min_addr needs CAP_SYS_RAWIO
  return addr < mmap_min_addr ? -EPERM : addr;
}

// mm/mmap.c accountable_mapping(), v4.14: private writable memory is charged (VM_ACCOUNT).
function accountable_mapping(vm_flags: number): boolean {
  return (vm_flags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) === VM_WRITE;
}

// mm/mmap.c mmap_region(), v4.14, anonymous: unmap what is there, then a new VMA (no vma_merge);
// a shared one gets its shmem file. The caller holds mmap_sem for writing. vma_link() fails only
// in the tree (v6.1's mas_preallocate()): the VMA and its file go again.
export function mmap_region(mm: number, addr: number, len: number, vm_flags: number, pgoff: number): number {
  const end = u32(addr + len);
  while (find_vma_intersection(mm, addr, end)) {
    if (do_munmap(mm, addr, len)) return -ENOMEM;
  }
  if (accountable_mapping(vm_flags)) vm_flags |= VM_ACCOUNT;
  const vma = vm_area_alloc(mm, addr, end, vm_flags, pgoff);
  if (!vma) return -ENOMEM;
  if (vm_flags & VM_SHARED) {
    const error = shmem_zero_setup(vma);
    if (error) {
      __vm_area_free(vma);
      return error;
    }
  }
  vma_new_lock(vma); // 33313a747e81 (6.4.3, v6.5): locked before it becomes visible; era's choice
  if (vma_link(mm, vma)) {
    const file = kread(vma + VMA.vm_file);
    if (file) fput(file);
    __vm_area_free(vma);
    return -ENOMEM;
  }
  vma_attach(vma);
  // Visible to lock_vma_under_rcu() from here; in 6.4.0 not yet write-locked (§6 G2).
  point('mmap_region:linked');
  vm_stat_account(mm, vm_flags, len >>> 12);
  if (vm_flags & VM_LOCKED) Atomics.add(mem.i32, mm + MM.locked_vm, len >>> 12);
  // New (or expanded) vma always get soft dirty status.
  vm_flags_set(vma, VM_SOFTDIRTY);
  vma_set_page_prot(vma);
  return addr;
}

// mm/mmap.c do_mmap(), v4.14, anonymous mappings. Returns the address or -errno; `populate.len`
// asks the caller to mm_populate() after dropping mmap_sem. The caller holds mmap_sem for writing.
export function do_mmap(
  mm: number,
  addr: number,
  len: number,
  prot: number,
  flags: number,
  vm_flags: number,
  pgoff: number,
  populate: { len: number } = { len: 0 },
): number {
  traceBegin(T.do_mmap);
  try {
    populate.len = 0;
    if (!len) return -EINVAL;
    if (!(flags & MAP_ANONYMOUS)) return -EBADF; // no files here
    if (!(flags & MAP_FIXED)) addr = round_hint_to_min(addr);
    len = PAGE_ALIGN(len);
    if (!len) return -ENOMEM;
    addr = get_unmapped_area(mm, addr, len, flags);
    if (addr < 0) return addr;
    vm_flags |= calc_vm_prot_bits(prot) | calc_vm_flag_bits(flags) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
    switch (flags & MAP_TYPE) {
      case MAP_SHARED:
        if (vm_flags & VM_GROWSDOWN) return -EINVAL;
        pgoff = 0;
        vm_flags |= VM_SHARED | VM_MAYSHARE;
        break;
      case MAP_PRIVATE:
        pgoff = addr >>> 12;
        break;
      default:
        return -EINVAL;
    }
    if (flags & MAP_NORESERVE) vm_flags |= VM_NORESERVE;
    addr = mmap_region(mm, addr, len, vm_flags, pgoff);
    if (addr >= 0 && (vm_flags & VM_LOCKED || (flags & (MAP_POPULATE | MAP_NONBLOCK)) === MAP_POPULATE)) {
      populate.len = len;
    }
    return addr;
  } finally {
    traceEnd(T.do_mmap);
  }
}

// mm/mmap.c round_hint_to_min()
function round_hint_to_min(hint: number): number {
  hint = u32(hint & PAGE_MASK);
  return hint && hint < mmap_min_addr ? PAGE_ALIGN(mmap_min_addr) : hint;
}

// mm/util.c vm_mmap_pgoff(), v4.14: take mmap_sem for writing, map, then populate under the
// read lock. `mm` is current->mm.
export function vm_mmap_pgoff(
  mm: number,
  addr: number,
  len: number,
  prot: number,
  flags: number,
  pgoff: number,
): number {
  if (mmap_write_lock_killable(mm)) return -EINTR;
  const populate = { len: 0 };
  const ret = do_mmap(mm, addr, len, prot, flags, 0, pgoff, populate);
  mmap_write_unlock(mm);
  if (populate.len) mm_populate(mm, ret, populate.len);
  return ret;
}

// mm/util.c vm_mmap(), v4.14
export function vm_mmap(
  mm: number,
  addr: number,
  len: number,
  prot: number,
  flags: number,
  offset = 0,
): number {
  if (offset_in_page(offset)) return -EINVAL;
  return vm_mmap_pgoff(mm, addr, len, prot, flags, offset >>> 12);
}

// mm/gup.c populate_vma_page_range(), v4.14, with __get_user_pages() reduced to one
// handle_mm_fault() per page (a present page that needs no COW break only gets its young bit).
// Writable private mappings are touched with a write fault, to break COW. The caller holds
// mmap_sem (for reading from mm_populate(), for writing from mprotect_fixup()). Returns the pages
// done or -errno.
export function populate_vma_page_range(vma: number, start: number, end: number): number {
  const vm_flags = kread(vma + VMA.vm_flags);
  const write = (vm_flags & (VM_WRITE | VM_SHARED)) === VM_WRITE;
  if (!(vm_flags & (VM_READ | VM_WRITE | VM_EXEC))) return -EFAULT; // no FOLL_FORCE for PROT_NONE
  let nr = 0;
  for (let addr = start; addr < end; addr += PAGE_SIZE, nr++) {
    const fault = handle_mm_fault(vma, addr, write ? FAULT_FLAG_WRITE : 0);
    if (fault & VM_FAULT_ERROR) return nr ? nr : -ENOMEM;
    point('populate:page'); // cond_resched()
  }
  return nr;
}

// mm/gup.c __mm_populate(), v4.14 (ignore_errors = 1): fault in [start, start + len) VMA by VMA.
export function mm_populate(mm: number, start: number, len: number): void {
  const end = start + len;
  mmap_read_lock(mm);
  let vma = 0;
  for (let nstart = start, nend = 0; nstart < end; nstart = nend) {
    vma = vma ? (nstart >= vma_end(vma) ? vma_after(mm, vma) : vma) : find_vma(mm, nstart);
    if (!vma || vma_start(vma) >= end) break;
    nend = Math.min(end, vma_end(vma));
    if (kread(vma + VMA.vm_flags) & VM_PFNMAP) continue;
    if (nstart < vma_start(vma)) nstart = vma_start(vma);
    populate_vma_page_range(vma, nstart, nend);
  }
  mmap_read_unlock(mm);
}

// mm/mmap.c __vma_adjust(), v4.14, for split_vma() only: the VMA shrinks to [start, end) and its
// other half `insert` goes into the container, under the anon_vma lock (no merging, no interval
// trees). v6.1's container part: mas_preallocate() first (the only failure, -ENOMEM), then
// vma_mas_store(vma) and vma_mas_store(insert).
function vma_adjust(vma: number, start: number, end: number, pgoff: number, insert: number): number {
  const mm = kread(vma + VMA.vm_mm);
  const mas = vma_prealloc(mm);
  if (!mas) return -ENOMEM;
  vma_write_lock(vma); // v6.4 vma_prepare(): vma_start_write(vma)
  vma_write_lock(insert);
  const anon_vma = kread(vma + VMA.anon_vma);
  if (anon_vma) anon_vma_lock_write(anon_vma);
  kwrite(vma + VMA.vm_start, start);
  kwrite(vma + VMA.vm_end, end);
  kwrite(vma + VMA.vm_pgoff, pgoff);
  vma_mas_store(mas, vma);
  __insert_vm_struct(mas, mm, insert);
  vma_attach(insert); // v6.15 vma_iter_store_new() -> vma_mark_attached()
  if (anon_vma) anon_vma_unlock_write(anon_vma);
  mas_destroy(mas);
  return 0;
}

// mm/mmap.c __split_vma(), v4.14: a copy of the VMA takes [vm_start, addr) (new_below) or
// [addr, vm_end); both share the anon_vma and the file.
export function __split_vma(_mm: number, vma: number, addr: number, new_below: boolean): number {
  const nw = kmem_cache_alloc(vm_area_cache(), 'vm_area_dup');
  if (!nw) return -ENOMEM;
  for (let i = 0; i < VMA.SIZE; i++) kwrite(nw + i, kread(vma + i)); // *new = *vma
  if (vma_lock_init(nw)) {
    kmem_cache_free(vm_area_cache(), nw, 'vm_area_dup');
    return -ENOMEM;
  }
  const start = vma_start(vma);
  const pgoff = kread(vma + VMA.vm_pgoff);
  if (new_below) kwrite(nw + VMA.vm_end, addr);
  else {
    kwrite(nw + VMA.vm_start, addr);
    kwrite(nw + VMA.vm_pgoff, pgoff + ((addr - start) >>> 12));
  }
  if (anon_vma_clone(nw, vma)) {
    __vm_area_free(nw);
    return -ENOMEM;
  }
  const file = kread(nw + VMA.vm_file);
  if (file) get_file(file);
  const err = new_below
    ? vma_adjust(vma, addr, vma_end(vma), pgoff + ((addr - start) >>> 12), nw)
    : vma_adjust(vma, start, addr, pgoff, nw);
  if (!err) return 0;
  // Clean everything up if vma_adjust failed.
  if (file) fput(file);
  unlink_anon_vmas(nw);
  __vm_area_free(nw);
  return err;
}

/** mm/mmap.c sysctl_max_map_count (DEFAULT_MAX_MAP_COUNT) */
export const sysctl_max_map_count = 65530;

// mm/mmap.c split_vma(), v4.14
export function split_vma(mm: number, vma: number, addr: number, new_below: boolean): number {
  if (kread(mm + MM.map_count) >= sysctl_max_map_count) return -ENOMEM;
  return __split_vma(mm, vma, addr, new_below);
}

// mm/mmap.c unmap_region(), v4.14 (v6.1: with the tree `mt` the detached VMAs are in): zap the
// detached VMAs and free their page tables, keeping the tables that the neighbours (prev, next)
// still use.
export function unmap_region(
  mm: number,
  mt: number,
  vma: number,
  prev: number,
  start: number,
  end: number,
): void {
  const next = prev ? vma_after(mm, prev) : find_vma(mm, 0); // prev->vm_next : mm->mmap
  const tlb = tlb_gather_mmu(mm, start, end);
  unmap_vmas(tlb, vma, start, end, mt);
  free_pgtables(
    tlb,
    vma,
    prev ? vma_end(prev) : FIRST_USER_ADDRESS,
    next ? vma_start(next) : USER_PGTABLES_CEILING,
    mt,
  );
  tlb_finish_mmu(tlb, start, end);
}

// mm/mmap.c remove_vma_list(), v4.14 (v6.1 remove_mt(): mas_for_each over the detached tree `mt`):
// `vma` and the VMAs after it in the detached set. `mt` 0: the mm's own (the list's vm_next chain).
export function remove_vma_list(mm: number, vma: number, mt = 0): void {
  const mas: MaState = mas_after_vma(mt || mm_mt(mm), vma);
  do {
    const next = mas_find(mas, ULONG_MAX);
    vm_stat_account(mm, kread(vma + VMA.vm_flags), -vma_pages(vma));
    remove_vma(vma);
    vma = next;
  } while (vma);
}

// mm/mmap.c do_munmap(), v4.14: split at the edges, munlock, detach, unmap, free. The caller
// holds mmap_sem for writing.
export function do_munmap(mm: number, start: number, len: number): number {
  traceBegin(T.do_munmap);
  try {
    start = u32(start);
    if (offset_in_page(start) || start > TASK_SIZE || len > TASK_SIZE - start) return -EINVAL;
    len = PAGE_ALIGN(len);
    if (len === 0) return -EINVAL;
    let vma = find_vma(mm, start);
    if (!vma) return 0;
    let prev = vma_before(mm, vma);
    const end = start + len;
    if (vma_start(vma) >= end) return 0;
    if (start > vma_start(vma)) {
      if (end < vma_end(vma) && kread(mm + MM.map_count) >= sysctl_max_map_count) return -ENOMEM;
      const error = __split_vma(mm, vma, start, false);
      if (error) return error;
      prev = vma;
    }
    const last = find_vma(mm, end);
    if (last && end > vma_start(last)) {
      const error = __split_vma(mm, last, end, true);
      if (error) return error;
    }
    vma = prev ? vma_after(mm, prev) : find_vma(mm, 0); // prev->vm_next : mm->mmap
    if (kread(mm + MM.locked_vm)) unlock_range(mm, vma, end);
    // v6.4: each VMA write-locked before it leaves the tree, then marked detached.
    const gone: number[] = [];
    for (let tmp = vma; tmp && vma_start(tmp) < end; tmp = vma_after(mm, tmp)) gone.push(tmp);
    for (const tmp of gone) vma_write_lock(tmp);
    // v6.1: the VMAs go to a detached tree (mt_detach); the list leaves them chained.
    const mt = detach_vmas_to_be_unmapped(mm, vma, prev, end);
    if (mt < 0) return mt;
    for (const tmp of gone) vma_detach(tmp);
    point('do_munmap:detached');
    unmap_region(mm, mt, vma, prev, start, end);
    remove_vma_list(mm, vma, mt);
    detached_destroy(mt);
    return 0;
  } finally {
    traceEnd(T.do_munmap);
  }
}

// mm/mmap.c unlock_range(), v5.12 (the same loop inline in do_munmap() since v2.6; v4.14 for the
// era): "unlock any mlock()ed ranges before detaching vmas": each VM_LOCKED VMA leaves locked_vm and
// is munlocked, VM_LOCKED cleared first (mlock.ts). Up to v5.17.
export function unlock_range_v4_14(mm: number, vma: number, end: number): void {
  for (let tmp = vma; tmp && vma_start(tmp) < end; tmp = vma_after(mm, tmp)) {
    if (kread(tmp + VMA.vm_flags) & VM_LOCKED) {
      Atomics.sub(mem.i32, mm + MM.locked_vm, vma_pages(tmp));
      munlock_vma_pages_all(tmp);
    }
  }
}

// mm/mmap.c detach_vmas_to_be_unmapped(), v5.18 (v6.1: munmap_sidetree()): munmap munlocks no page
// and leaves vm_flags alone since a213e5cf71cb ("mm/munlock: delete munlock_vma_pages_all(), allow
// oomreap"); a VM_LOCKED VMA only leaves locked_vm. No flag changes before vma_start_write() in the
// per-VMA lock eras, as in the kernel.
export function unlock_range_v5_18(mm: number, vma: number, end: number): void {
  for (let tmp = vma; tmp && vma_start(tmp) < end; tmp = vma_after(mm, tmp)) {
    if (kread(tmp + VMA.vm_flags) & VM_LOCKED) Atomics.sub(mem.i32, mm + MM.locked_vm, vma_pages(tmp));
  }
}

// mm/mmap.c vm_munmap(), v4.14. `mm` is current->mm.
export function vm_munmap(mm: number, start: number, len: number): number {
  if (mmap_write_lock_killable(mm)) return -EINTR;
  const ret = do_munmap(mm, start, len);
  mmap_write_unlock(mm);
  return ret;
}

// mm/mmap.c acct_stack_growth(), v4.14 (RLIMIT_STACK only: no RLIMIT_AS, memlock or overcommit)
function acct_stack_growth(_vma: number, size: number, _grow: number): number {
  return size > RLIMIT_STACK ? -ENOMEM : 0;
}

// mm/mmap.c expand_downwards(), v4.14: grow a VM_GROWSDOWN VMA down to `address`. Called by the
// fault path under mmap_sem for *reading* (v4.14…v6.4; for writing from v6.5, fault.ts):
// concurrent expansions are serialized by the anon_vma lock, and vm_start and the counters are
// written under mm->page_table_lock. v6.1 also rewrites the VMA's range in the tree there
// (mas_preallocate() first, mas_store_prealloc() under page_table_lock): the maple tree's one
// store under the read lock (maple_tree.ts).
export function expand_downwards(vma: number, address: number): number {
  traceBegin(T.expand_downwards);
  try {
    const mm = kread(vma + VMA.vm_mm);
    address = u32(address & PAGE_MASK);
    if (address < mmap_min_addr) return -EPERM; // security_mmap_addr(): no CAP_SYS_RAWIO
    const prev = vma_before(mm, vma);
    const pflags = prev ? kread(prev + VMA.vm_flags) : 0;
    if (prev && !(pflags & VM_GROWSDOWN) && pflags & (VM_WRITE | VM_READ | VM_EXEC)) {
      if (u32(address - vma_end(prev)) < stack_guard_gap) return -ENOMEM;
    }
    const mas = vma_prealloc(mm);
    if (!mas) return -ENOMEM;
    if (anon_vma_prepare(vma)) {
      mas_destroy(mas);
      return -ENOMEM;
    }
    vma_expand_lock(vma); // c137381f71ae "mm: lock a vma before stack expansion" (v6.5-rc1, 6.4.2)
    const anon_vma = kread(vma + VMA.anon_vma);
    anon_vma_lock_write(anon_vma);
    let error = 0;
    // Somebody else might have raced and expanded it already.
    if (address < vma_start(vma)) {
      const size = vma_end(vma) - address;
      const grow = (vma_start(vma) - address) >>> 12;
      error = -ENOMEM;
      if (grow <= kread(vma + VMA.vm_pgoff)) {
        error = acct_stack_growth(vma, size, grow);
        if (!error) grow_vma_start(mm, vma, address, grow, mas);
      }
    }
    anon_vma_unlock_write(anon_vma);
    mas_destroy(mas);
    return error;
  } finally {
    traceEnd(T.expand_downwards);
  }
}

/** expand_downwards()' update, under page_table_lock (mmap_sem is only held for reading). */
function grow_vma_start(mm: number, vma: number, address: number, grow: number, mas: MaState): void {
  spin_lock(mm + MM.page_table_lock);
  const flags = kread(vma + VMA.vm_flags);
  if (flags & VM_LOCKED) Atomics.add(mem.i32, mm + MM.locked_vm, grow);
  vm_stat_account(mm, flags, grow);
  kwrite(vma + VMA.vm_start, address);
  // Faults in this VMA read vm_start and vm_pgoff without page_table_lock (linear_page_index()):
  // one that is not excluded (mmap_lock read-held before v6.5, the per-VMA lock in 6.4.0-6.4.1)
  // can read them between these two stores.
  point('expand_downwards:vm_pgoff');
  kwrite(vma + VMA.vm_pgoff, kread(vma + VMA.vm_pgoff) - grow);
  vma_mas_store(mas, vma); // v6.1: overwrite the old entry in the tree
  spin_unlock(mm + MM.page_table_lock);
}

// mm/mmap.c expand_stack(), v4.14 (x86: the stack grows down)
export function expand_stack(vma: number, address: number): number {
  return expand_downwards(vma, address);
}
