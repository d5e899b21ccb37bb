// kernel/fork.c dup_mmap()/dup_mm()/copy_mm() and mm/memory.c copy_page_range() (v4.14): fork's
// copy of an address space. Each VMA is copied (the child's shares the parent's anon_vma and shmem
// file, rmap.ts); for VMAs with anonymous pages the PTEs are copied too: a private writable PTE is
// write-protected in parent and child alike (COW), and each copied page gains a reference and a
// mapping. Shared and never-faulted VMAs copy no PTEs: the child faults them in.
// dup_mmap() is an era slot (era_ops.ts): v4.14 appends to the child's vm_next list, v6.1 walks
// the parent's maple tree and stores into the child's, v6.3 does so out of RCU mode.
//
// Lockdep: the child's mmap_sem is taken with down_write_nested() (mmap_write_lock_nested() from
// v5.8) and the source PTE lock with spin_lock_nested(), both SINGLE_DEPTH_NESTING: a lock of a
// class this task already holds (the parent's mmap_sem, the destination PTE lock), which lockdep
// would otherwise report as possible recursive locking.
import { point } from '../cpu/context.js';
import { EINTR, ENOMEM } from '../kernel/errno.js';
import { mm_alloc, mmget, mmput } from '../kernel/fork.js';
import { SINGLE_DEPTH_NESTING } from '../kernel/locking/lockdep.js';
import { spin_lock_nested, spin_unlock } from '../kernel/locking/spinlock.js';
import { get_current } from '../kernel/sched.js';
import { TASK } from '../kernel/task_struct.js';
import { mem } from '../shm/arena.js';
import { dup_mmap } from './era_ops.js';
import { kread, kwrite } from './kasan.js';
import {
  mas_destroy,
  mas_find,
  mas_init,
  mas_store_gfp,
  mt_clear_in_rcu,
  mt_set_in_rcu,
} from './maple_tree.js';
import { add_mm_counter, mm_counter, vm_normal_page } from './memory.js';
import {
  MM,
  NR_MM_COUNTERS,
  ULONG_MAX,
  VM_DONTCOPY,
  VM_HUGETLB,
  VM_LOCKED,
  VM_LOCKONFAULT,
  VM_MAYWRITE,
  VM_MIXEDMAP,
  VM_PFNMAP,
  VM_SHARED,
  VMA,
} from './mm_types.js';
import { vm_stat_account } from './mmap.js';
import { mmap_write_lock_killable, mmap_write_lock_nested, mmap_write_unlock } from './mmap_lock.js';
import { get_page } from './page_alloc.js';
import {
  PGDIR_SIZE,
  PMD_SIZE,
  pgd_offset,
  pgd_present,
  pmd_alloc,
  pmd_none,
  pmd_offset,
  pte_alloc,
  pte_lockptr,
  pte_mkclean,
  pte_mkold,
  pte_none,
  pte_offset_map,
  pte_offset_map_lock,
  pte_present,
  pte_unmap_unlock,
  pte_write,
  pte_wrprotect,
} from './pgtable.js';
import { anon_vma_fork, fput, get_file, page_dup_rmap, unlink_anon_vmas } from './rmap.js';
import { kmem_cache_alloc, kmem_cache_free } from './slab.js';
import { mm_init_vmas, vma_append, vma_end, vma_first, vma_next, vma_pages, vma_start } from './vma_list.js';
import {
  __vm_area_free,
  dup_mmap_lock_copy,
  dup_mmap_lock_parent,
  vm_area_cache,
  vma_attach,
  vma_lock_init,
  vma_write_lock,
} from './vma_lock.js';

/** include/uapi/linux/sched.h CLONE_VM */
export const CLONE_VM = 0x00000100;

const u32 = (x: number): number => x >>> 0;

function addr_end(addr: number, end: number, size: number): number {
  const boundary = u32((addr + size) & ~(size - 1));
  return u32(boundary - 1) < u32(end - 1) ? boundary : end;
}

// include/linux/mm.h is_cow_mapping()
export function is_cow_mapping(flags: number): boolean {
  return (flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
}

// mm/memory.c copy_one_pte(), v4.14 (present PTEs: swap entries are not modelled)
function copy_one_pte(src_pte: number, dst_pte: number, vma: number, addr: number, rss: Int32Array): void {
  const vm_flags = kread(vma + VMA.vm_flags);
  let pte = kread(src_pte);
  if (!pte_present(pte)) return;
  // If it's a COW mapping, write protect it both in the parent and the child.
  if (is_cow_mapping(vm_flags) && pte_write(pte)) {
    kwrite(src_pte, pte_wrprotect(pte)); // ptep_set_wrprotect()
    pte = pte_wrprotect(pte);
  }
  // If it's a shared mapping, mark it clean in the child.
  if (vm_flags & VM_SHARED) pte = pte_mkclean(pte);
  pte = pte_mkold(pte);
  const page = vm_normal_page(vma, addr, pte);
  if (page) {
    get_page(page);
    page_dup_rmap(page);
    rss[mm_counter(page)]!++;
  }
  kwrite(dst_pte, pte); // set_pte_at()
}

// mm/memory.c copy_pte_range(), v4.14: the child's PTE lock, then the parent's, nested.
function copy_pte_range(
  dst_mm: number,
  dst_pmdp: number,
  src_pmdp: number,
  vma: number,
  addr: number,
  end: number,
): number {
  const rss = new Int32Array(NR_MM_COUNTERS);
  if (pte_alloc(dst_mm, dst_pmdp)) return -ENOMEM;
  const out = { ptl: 0 };
  let dst_pte = pte_offset_map_lock(kread(dst_pmdp), addr, out);
  const src_pmdval = kread(src_pmdp);
  let src_pte = pte_offset_map(src_pmdval, addr);
  const src_ptl = pte_lockptr(src_pmdval);
  spin_lock_nested(src_ptl, SINGLE_DEPTH_NESTING);
  do {
    if (pte_none(kread(src_pte))) continue;
    copy_one_pte(src_pte, dst_pte, vma, addr, rss);
  } while ((dst_pte++, src_pte++, (addr = u32(addr + 4096))) !== end);
  spin_unlock(src_ptl);
  for (let i = 0; i < NR_MM_COUNTERS; i++) if (rss[i]) add_mm_counter(dst_mm, i, rss[i]!);
  pte_unmap_unlock(out.ptl);
  point('copy_pte_range'); // cond_resched()
  return 0;
}

// mm/memory.c copy_pmd_range() with the folded pud level, v4.14
function copy_pmd_range(
  dst_mm: number,
  dst_pgdp: number,
  src_pgdp: number,
  vma: number,
  addr: number,
  end: number,
): number {
  if (pmd_alloc(dst_mm, dst_pgdp)) return -ENOMEM;
  let dst_pmdp = pmd_offset(kread(dst_pgdp), addr);
  let src_pmdp = pmd_offset(kread(src_pgdp), addr);
  let next: number;
  do {
    next = addr_end(addr, end, PMD_SIZE);
    if (pmd_none(kread(src_pmdp))) continue;
    if (copy_pte_range(dst_mm, dst_pmdp, src_pmdp, vma, addr, next)) return -ENOMEM;
  } while ((dst_pmdp++, src_pmdp++, (addr = next)) !== end);
  return 0;
}

// mm/memory.c copy_page_range(), v4.14: "Don't copy ptes where a page fault will fill them
// correctly": only VMAs with anonymous pages (an anon_vma) have their PTEs copied.
export function copy_page_range(dst_mm: number, src_mm: number, vma: number): number {
  const flags = kread(vma + VMA.vm_flags);
  if (!(flags & (VM_HUGETLB | VM_PFNMAP | VM_MIXEDMAP)) && !kread(vma + VMA.anon_vma)) return 0;
  let addr = vma_start(vma);
  const end = vma_end(vma);
  let dst_pgdp = pgd_offset(dst_mm, addr);
  let src_pgdp = pgd_offset(src_mm, addr);
  let next: number;
  do {
    next = addr_end(addr, end, PGDIR_SIZE);
    if (!pgd_present(kread(src_pgdp))) continue;
    if (copy_pmd_range(dst_mm, dst_pgdp, src_pgdp, vma, addr, next)) return -ENOMEM;
  } while ((dst_pgdp++, src_pgdp++, (addr = next)) !== end);
  return 0;
}

/** dup_mmap()'s copy of one VMA for the child (*tmp = *mpnt, then the fix-ups); 0 when out of memory. */
function vm_area_dup(mm: number, mpnt: number): number {
  const tmp = kmem_cache_alloc(vm_area_cache(), 'dup_mmap');
  if (!tmp) return 0;
  for (let i = 0; i < VMA.SIZE; i++) kwrite(tmp + i, kread(mpnt + i));
  if (vma_lock_init(tmp)) {
    kmem_cache_free(vm_area_cache(), tmp, 'dup_mmap');
    return 0;
  }
  kwrite(tmp + VMA.vm_mm, mm);
  if (anon_vma_fork(tmp, mpnt)) {
    __vm_area_free(tmp);
    return 0;
  }
  kwrite(tmp + VMA.vm_flags, kread(tmp + VMA.vm_flags) & ~(VM_LOCKED | VM_LOCKONFAULT));
  const file = kread(tmp + VMA.vm_file);
  if (file) get_file(file);
  return tmp;
}

// kernel/fork.c dup_mmap(), v4.14: both mmap_sems held for writing; the child's VMAs are appended
// to its list in order, each followed by its PTEs. On failure the partial copy stays for mmput()
// to tear down.
export function dup_mmap_v4_14(mm: number, oldmm: number): number {
  if (mmap_write_lock_killable(oldmm)) return -EINTR;
  // down_write_nested(&mm->mmap_sem, SINGLE_DEPTH_NESTING): "Not linked in yet - no deadlock potential"
  mmap_write_lock_nested(mm, SINGLE_DEPTH_NESTING);
  Atomics.store(mem.i32, mm + MM.total_vm, Atomics.load(mem.i32, oldmm + MM.total_vm));
  let retval = 0;
  let prev = 0;
  for (let mpnt = vma_first(oldmm); mpnt; mpnt = vma_next(mpnt)) {
    const flags = kread(mpnt + VMA.vm_flags);
    if (flags & VM_DONTCOPY) {
      vm_stat_account(mm, flags, -vma_pages(mpnt));
      continue;
    }
    const tmp = vm_area_dup(mm, mpnt);
    if (!tmp) {
      retval = -ENOMEM;
      break;
    }
    prev = vma_append(mm, tmp, prev);
    retval = copy_page_range(mm, oldmm, mpnt);
    point('dup_mmap:vma');
    if (retval) break;
  }
  mmap_write_unlock(mm);
  mmap_write_unlock(oldmm);
  return retval;
}

/** dup_mmap()'s error path for a copy that could not be linked: its anon_vma, file and itself. */
function dup_mmap_unwind(tmp: number): void {
  unlink_anon_vmas(tmp);
  const file = kread(tmp + VMA.vm_file);
  if (file) fput(file);
  __vm_area_free(tmp);
}

/**
 * v6.1's body: mas_for_each() over the parent's tree, and each copy stored into the child's
 * (mas.index = tmp->vm_start; mas.last = tmp->vm_end - 1; mas_store(&mas, tmp); map_count++).
 * `rcu`: v6.3's mt_clear_in_rcu() of the child's tree first (nobody can see it yet: nodes go at
 * once) and mt_set_in_rcu() when the copy succeeded.
 */
function dup_mmap_tree(mm: number, oldmm: number, rcu: boolean): number {
  if (mmap_write_lock_killable(oldmm)) return -EINTR;
  mmap_write_lock_nested(mm, SINGLE_DEPTH_NESTING);
  Atomics.store(mem.i32, mm + MM.total_vm, Atomics.load(mem.i32, oldmm + MM.total_vm));
  mm_init_vmas(mm);
  const old_mas = mas_init(oldmm + MM.mm_mt, 0);
  const mas = mas_init(mm + MM.mm_mt, 0);
  if (rcu) mt_clear_in_rcu(mas.mt);
  let retval = 0;
  for (let mpnt = mas_find(old_mas, ULONG_MAX); mpnt; mpnt = mas_find(old_mas, ULONG_MAX)) {
    const flags = kread(mpnt + VMA.vm_flags);
    if (flags & VM_DONTCOPY) {
      vm_stat_account(mm, flags, -vma_pages(mpnt));
      continue;
    }
    dup_mmap_lock_parent(mpnt); // fb49c455323f "fork: lock VMAs of the parent process when forking"
    const tmp = vm_area_dup(mm, mpnt);
    if (!tmp) {
      retval = -ENOMEM;
      break;
    }
    vma_write_lock(tmp);
    // Link the vma into the MT
    mas.index = vma_start(tmp);
    mas.last = vma_end(tmp) - 1;
    if (mas_store_gfp(mas, tmp)) {
      // fail_nomem_mas_store: unlink_anon_vmas(tmp), then the VMA goes
      retval = -ENOMEM;
      dup_mmap_unwind(tmp);
      break;
    }
    vma_attach(tmp);
    Atomics.add(mem.i32, mm + MM.map_count, 1);
    dup_mmap_lock_copy(mpnt); // the RFC's vma_mark_locked(mpnt) (patch 07/28)
    retval = copy_page_range(mm, oldmm, mpnt);
    point('dup_mmap:vma');
    if (retval) break;
  }
  mas_destroy(mas);
  if (rcu && !retval) mt_set_in_rcu(mas.mt);
  mmap_write_unlock(mm);
  mmap_write_unlock(oldmm);
  return retval;
}

// kernel/fork.c dup_mmap(), v6.1 (d4af56c5c7c6 and "kernel/fork: use maple tree for dup_mmap()
// during forking"): the parent's VMAs through its tree, the copies stored into the child's.
export function dup_mmap_v6_1(mm: number, oldmm: number): number {
  return dup_mmap_tree(mm, oldmm, false);
}

// kernel/fork.c dup_mmap(), v6.3 (3dd4432549415f "mm: enable maple tree RCU mode by default"): the
// child's tree is built out of RCU mode and put in it once complete.
export function dup_mmap_v6_3(mm: number, oldmm: number): number {
  return dup_mmap_tree(mm, oldmm, true);
}

// kernel/fork.c dup_mm(), v4.14: a fresh mm (mm_alloc() is allocate_mm() + mm_init()) holding a
// copy of `oldmm`. Returns 0 when out of memory (the partial copy is mmput()).
export function dup_mm(tsk: number, oldmm: number): number {
  const mm = mm_alloc();
  if (!mm) return 0;
  mm_init_vmas(mm); // mm_init()'s container part, which kernel/fork.ts's mm_alloc() leaves out
  Atomics.store(mem.i32, mm + MM.owner, tsk); // mm_init_owner()
  if (dup_mmap(mm, oldmm)) {
    mmput(mm);
    return 0;
  }
  return mm;
}

// kernel/fork.c copy_mm(), v4.14: the new task `tsk` (not running yet) gets current's mm
// (CLONE_VM: a thread) or a copy of it (fork). Returns 0 or -ENOMEM.
export function copy_mm(clone_flags: number, tsk: number): number {
  const i32 = mem.i32;
  Atomics.store(i32, tsk + TASK.mm, 0);
  Atomics.store(i32, tsk + TASK.active_mm, 0);
  const oldmm = kread(get_current() + TASK.mm);
  if (!oldmm) return 0; // a kernel thread
  let mm = oldmm;
  if (clone_flags & CLONE_VM) mmget(oldmm);
  else {
    mm = dup_mm(tsk, oldmm);
    if (!mm) return -ENOMEM;
  }
  Atomics.store(i32, tsk + TASK.mm, mm);
  Atomics.store(i32, tsk + TASK.active_mm, mm);
  return 0;
}
