// mm/mmap.c exit_mmap() in each era's form: who may still walk or zap the address space while the
// last mmput() tears it down (kernel-mm.md §1, table §1.9). The era profile picks one (era_ops.ts).
// Phases: P2 munlock, P4 unmap_vmas, P5 free_pgtables, P6 the remove_vma() loop. mmu notifiers,
// arch_exit_mmap (the LDT's page tables, unreachable from any VMA) and vm_unacct_memory have
// nothing to do here. The VMA container is the vm_next list in every era, v6.1 included.
import { point } from '../cpu/context.js';
import { set_bit } from '../kernel/bitops.js';
import { die } from '../kernel/panic.js';
import { KERN_WARNING, printk } from '../kernel/printk.js';
import { get_current } from '../kernel/sched.js';
import { __oom_reap_task_mm } from './era_ops.js';
import { kread, kwrite } from './kasan.js';
import { free_pgtables, unmap_vmas, vm_normal_page, vma_end, vma_next, vma_start } from './memory.js';
import { FIRST_USER_ADDRESS, MM, MMF_OOM_SKIP, USER_PGTABLES_CEILING, VM_LOCKED, VMA } from './mm_types.js';
import { remove_vma } from './mmap.js';
import {
  mmap_assert_write_locked,
  mmap_read_lock,
  mmap_read_unlock,
  mmap_write_lock,
  mmap_write_unlock,
} from './mmap_lock.js';
import { type MmuGather, tlb_finish_mmu, tlb_gather_mmu } from './mmu_gather.js';
import { mm_is_oom_victim_v4_15, tsk_is_oom_victim } from './oom_kill.js';
import { get_page, put_page } from './page_alloc.js';
import {
  pgd_offset,
  pgd_present,
  pmd_none,
  pmd_offset,
  pte_offset_map_lock,
  pte_present,
  pte_unmap_unlock,
} from './pgtable.js';

// include/asm-generic/bug.h BUG_ON() on x86, v4.14: ud2 traps to report_bug(), which prints the
// cut-here line and "kernel BUG at" (the function stands in for the line number), then die().
function BUG_ON(cond: boolean, file: string, fn: string): void {
  if (!cond) return;
  printk(KERN_WARNING, '------------[ cut here ]------------');
  die(`kernel BUG at ${file}:${fn}!`, 'invalid opcode: 0000');
}

// mm/gup.c follow_page_mask(vma, address, FOLL_GET | FOLL_DUMP) for a PTE-mapped page, v4.14:
// the page with a reference, or 0 (gup.ts keeps its own copy private).
function follow_page_get(vma: number, address: number): number {
  const pgdval = kread(pgd_offset(kread(vma + VMA.vm_mm), address));
  if (!pgd_present(pgdval)) return 0;
  const pmdval = kread(pmd_offset(pgdval, address));
  if (pmd_none(pmdval)) return 0;
  // Between the pmd_none() test and the PTL: where the C1 reaper cleared a huge PMD.
  point('munlock:pmd');
  const out = { ptl: 0 };
  const ptep = pte_offset_map_lock(pmdval, address, out);
  const pte = kread(ptep);
  let page = 0;
  if (pte_present(pte)) {
    page = vm_normal_page(vma, address, pte);
    if (page) get_page(page);
  }
  pte_unmap_unlock(out.ptl);
  return page;
}

// mm/mlock.c munlock_vma_pages_range(vma, vm_start, vm_end) = munlock_vma_pages_all(), v4.14:
// VM_LOCKED is cleared first (how munlock tells other lockers apart, and what the reaper tests),
// then every page is looked up through the page tables. PG_mlocked and the unevictable LRU are
// not modelled: each page found is referenced and released, as munlock_vma_page() would.
export function munlock_vma_pages_all(vma: number): void {
  kwrite(vma + VMA.vm_flags, kread(vma + VMA.vm_flags) & ~VM_LOCKED);
  point('munlock_vma_pages_range');
  for (let addr = vma_start(vma); addr < vma_end(vma); addr = (addr + 4096) >>> 0) {
    const page = follow_page_get(vma, addr);
    if (page) put_page(page, 'munlock_vma_pages_range');
  }
}

/** P2, ≤ v5.17: the munlock loop (unlock_range(mm->mmap, ULONG_MAX) from v5.12, the same walk). */
function munlock_all(mm: number): void {
  if (!kread(mm + MM.locked_vm)) return;
  for (let vma = kread(mm + MM.mmap); vma; vma = vma_next(vma)) {
    if (kread(vma + VMA.vm_flags) & VM_LOCKED) munlock_vma_pages_all(vma);
  }
}

/** P4: a fullmm gather and every PTE zapped; the tables stay. */
function unmap_all(mm: number, vma: number): MmuGather {
  const tlb = tlb_gather_mmu(mm, 0, -1);
  unmap_vmas(tlb, vma, 0, -1); // concurrent with a reaper's unmap_page_range(): harmless (N1)
  return tlb;
}

/** P5: page tables unhooked and freed (with the gathered pages at tlb_finish_mmu). */
function free_all_pgtables(tlb: MmuGather, vma: number): void {
  point('exit_mmap:free_pgtables');
  free_pgtables(tlb, vma, FIRST_USER_ADDRESS, USER_PGTABLES_CEILING);
  tlb_finish_mmu(tlb, 0, -1);
}

/** P6: the remove_vma() loop; returns how many VMAs were freed. */
function remove_vmas(vma: number): number {
  let count = 0;
  while (vma) {
    point('exit_mmap:remove_vma');
    vma = remove_vma(vma);
    count++;
  }
  return count;
}

/** The victim-only barrier of v4.14-v5.16: wait for a reaper inside its read-locked section. */
function oom_barrier(mm: number): void {
  mmap_write_lock(mm);
  mmap_write_unlock(mm);
}

// mm/mmap.c exit_mmap(), v4.13: no lock at all. Nothing can walk the mm any more: the reaper pins
// mm_users (mmget_not_zero), so it is done before this starts or never starts.
export function exit_mmap_v4_13(mm: number): void {
  munlock_all(mm);
  const vma = kread(mm + MM.mmap);
  if (!vma) return; // can happen if dup_mmap() received an OOM
  const tlb = unmap_all(mm, vma);
  free_all_pgtables(tlb, vma);
  remove_vmas(vma);
}

// mm/mmap.c exit_mmap(), v4.14 (212925802454): the barrier against the reaper is keyed on
// whether *current* is an OOM victim, so a non-victim doing the last mmput() skips it (B1).
export function exit_mmap_v4_14(mm: number): void {
  munlock_all(mm);
  const vma = kread(mm + MM.mmap);
  if (!vma) return;
  const tlb = unmap_all(mm, vma);
  set_bit(MMF_OOM_SKIP, mm + MM.flags);
  point('exit_mmap:oom_skip_set');
  // Wait for oom_reap_task() to stop working on this mm; after up_write() it sees MMF_OOM_SKIP.
  if (tsk_is_oom_victim(get_current())) oom_barrier(mm);
  free_all_pgtables(tlb, vma);
  remove_vmas(vma);
}

// mm/mmap.c exit_mmap(), v4.15 (4837fe37adff): the barrier is keyed on the mm (MMF_OOM_VICTIM),
// and MMF_OOM_SKIP is set only for victims, just before it. munlock still runs first, under a
// reaper that skips only the VMAs it *sees* VM_LOCKED (C1).
export function exit_mmap_v4_15(mm: number): void {
  munlock_all(mm);
  const vma = kread(mm + MM.mmap);
  if (!vma) return;
  const tlb = unmap_all(mm, vma);
  if (mm_is_oom_victim_v4_15(mm)) {
    set_bit(MMF_OOM_SKIP, mm + MM.flags);
    point('exit_mmap:oom_skip_set');
    oom_barrier(mm);
  }
  free_all_pgtables(tlb, vma);
  remove_vmas(vma);
}

// mm/mmap.c exit_mmap(), v4.17 (27ae357fa82b; to v5.16): a victim reaps its own mm, hides it,
// waits out any reaper, and only then munlocks. (4.17/4.18 self-reap under oom_lock, not modelled.)
export function exit_mmap_v4_17(mm: number): void {
  if (mm_is_oom_victim_v4_15(mm)) {
    // Nothing holds mmap_sem here and the notifiers are released: the self-reap cannot block.
    __oom_reap_task_mm(mm);
    set_bit(MMF_OOM_SKIP, mm + MM.flags);
    point('exit_mmap:oom_skip_set');
    oom_barrier(mm);
  }
  munlock_all(mm);
  const vma = kread(mm + MM.mmap);
  if (!vma) return;
  const tlb = unmap_all(mm, vma);
  free_all_pgtables(tlb, vma);
  remove_vmas(vma);
}

/** v5.17's body: everything under the write lock, the list left dangling or emptied. */
function exit_mmap_write_locked(mm: number, clear_list: boolean): void {
  if (mm_is_oom_victim_v4_15(mm)) {
    __oom_reap_task_mm(mm);
    set_bit(MMF_OOM_SKIP, mm + MM.flags);
    point('exit_mmap:oom_skip_set');
  }
  mmap_write_lock(mm);
  munlock_all(mm);
  const vma = kread(mm + MM.mmap);
  if (!vma) {
    mmap_write_unlock(mm);
    return;
  }
  const tlb = unmap_all(mm, vma);
  free_all_pgtables(tlb, vma);
  remove_vmas(vma);
  if (clear_list) {
    mmap_assert_write_locked(mm);
    kwrite(mm + MM.mmap, 0);
  }
  mmap_write_unlock(mm);
}

// mm/mmap.c exit_mmap(), v5.17-rc1 (64591e8605d6): mmap_write_lock over P2-P6, replacing the
// barrier, but mm->mmap still points at the freed first VMA afterwards (E1).
export function exit_mmap_v5_17_rc1(mm: number): void {
  exit_mmap_write_locked(mm, false);
}

// mm/mmap.c exit_mmap(), v5.17 (f798a1d4f94d): and mm->mmap = NULL before the unlock, so a later
// reader finds an empty list instead of freed VMAs.
export function exit_mmap_v5_17(mm: number): void {
  exit_mmap_write_locked(mm, true);
}

/** The read-locked first half of rfc-2022-05 and v6.1: P4 alongside reapers, then MMF_OOM_SKIP. */
function exit_mmap_unmap_read_locked(mm: number): { vma: number; tlb: MmuGather } | null {
  mmap_read_lock(mm);
  const vma = kread(mm + MM.mmap);
  if (!vma) {
    mmap_read_unlock(mm); // can happen if dup_mmap() received an OOM
    return null;
  }
  const tlb = unmap_all(mm, vma);
  mmap_read_unlock(mm);
  // Hide the mm from the OOM killer and the reaper: its memory is already freed.
  set_bit(MMF_OOM_SKIP, mm + MM.flags);
  point('exit_mmap:oom_skip_set');
  return { vma, tlb };
}

// mm/mmap.c exit_mmap(), Suren Baghdasaryan's "mm: drop oom code from exit_mmap" v2 as posted
// (May 2022, lore 20220516075619.1277152-1-surenb@google.com), on the vm_next list: read lock for
// arch_exit_mmap + unmap_vmas, MMF_OOM_SKIP for everyone, write lock for free_pgtables and the
// remove_vma loop, mm->mmap = NULL.
export function exit_mmap_rfc_2022_05(mm: number): void {
  const r = exit_mmap_unmap_read_locked(mm);
  if (!r) return;
  mmap_write_lock(mm);
  free_all_pgtables(r.tlb, r.vma);
  remove_vmas(r.vma);
  mmap_assert_write_locked(mm);
  kwrite(mm + MM.mmap, 0);
  mmap_write_unlock(mm);
}

// lib/maple_tree.c __mt_destroy(&mm->mm_mt), v6.1, on the vm_next list: the container is emptied
// (mm->mmap = NULL) under the write lock, the tree's external lock (mt_set_external_lock()).
export function __mt_destroy(mm: number): void {
  mmap_assert_write_locked(mm);
  kwrite(mm + MM.mmap, 0);
}

// mm/mmap.c exit_mmap(), v6.1 (bf3980c85212 on the maple tree): as rfc-2022-05, with every VMA
// counted against map_count (BUG_ON) and the container destroyed instead of mm->mmap = NULL.
export function exit_mmap_v6_1(mm: number): void {
  const r = exit_mmap_unmap_read_locked(mm);
  if (!r) return;
  mmap_write_lock(mm);
  free_all_pgtables(r.tlb, r.vma);
  const count = remove_vmas(r.vma);
  BUG_ON(count !== kread(mm + MM.map_count), 'mm/mmap.c', 'exit_mmap');
  __mt_destroy(mm);
  mmap_write_unlock(mm);
}
