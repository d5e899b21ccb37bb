// mm/mmap.c exit_mmap() in each era's form: who may still walk or zap the address space while the
// last mmput() tears it down (kernel-mm.md §1, table §1.9). The era profile picks one (era_ops.ts).
// Phases: P2 munlock, P4 unmap_vmas, P5 free_pgtables, P6 the remove_vma() loop. mmu notifiers,
// arch_exit_mmap (the LDT's page tables, unreachable from any VMA) and vm_unacct_memory have
// nothing to do here. Up to rfc-2022-05 the VMAs are on the vm_next list (mm->mmap); v6.1 walks
// the maple tree mm->mm_mt with mas_find() and destroys it (__mt_destroy()), v6.3 after taking it
// out of RCU mode.
import { point } from '../cpu/context.js';
import { set_bit } from '../kernel/bitops.js';
import { die } from '../kernel/panic.js';
import { KERN_WARNING, printk } from '../kernel/printk.js';
import { get_current } from '../kernel/sched.js';
import { __oom_reap_task_mm } from './era_ops.js';
import { kread, kwrite } from './kasan.js';
import { __mt_destroy, mas_find, mas_init, mt_clear_in_rcu } from './maple_tree.js';
import { free_pgtables, unmap_vmas } from './memory.js';
import { munlock_vma_pages_all } from './mlock.js';
import {
  FIRST_USER_ADDRESS,
  MM,
  MMF_OOM_SKIP,
  ULONG_MAX,
  USER_PGTABLES_CEILING,
  VM_LOCKED,
  VMA,
} from './mm_types.js';
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
import { type MaState, vma_first, vma_next } from './vma_list.js';
import { vma_mark_detached, vma_start_write } from './vma_lock.js';

// include/asm-generic/bug.h BUG_ON() on x86, v4.14: ud2 traps to report_bug(), which prints the
// cut-here line and "kernel BUG at" (the function stands in for the line number), then die().
function BUG_ON(cond: boolean, file: string, fn: string): void {
  if (!cond) return;
  printk(KERN_WARNING, '------------[ cut here ]------------');
  die(`kernel BUG at ${file}:${fn}!`, 'invalid opcode: 0000');
}

/** P2, ≤ v5.17: the munlock loop (unlock_range(mm->mmap, ULONG_MAX) from v5.12, the same walk). */
function munlock_all(mm: number): void {
  if (!kread(mm + MM.locked_vm)) return;
  for (let vma = vma_first(mm); vma; vma = vma_next(vma)) {
    if (kread(vma + VMA.vm_flags) & VM_LOCKED) munlock_vma_pages_all(vma);
  }
}

/** P4: a fullmm gather and every PTE zapped; the tables stay. `mt`: v6.1's &mm->mm_mt (0: the list). */
function unmap_all(mm: number, vma: number, mt = 0): MmuGather {
  const tlb = tlb_gather_mmu(mm, 0, -1);
  unmap_vmas(tlb, vma, 0, -1, mt); // concurrent with a reaper's unmap_page_range(): harmless (N1)
  return tlb;
}

/** P5: page tables unhooked and freed (with the gathered pages at tlb_finish_mmu). */
function free_all_pgtables(tlb: MmuGather, vma: number, mt = 0): void {
  point('exit_mmap:free_pgtables');
  free_pgtables(tlb, vma, FIRST_USER_ADDRESS, USER_PGTABLES_CEILING, mt);
  tlb_finish_mmu(tlb, 0, -1);
}

/** P6 on the list: the remove_vma() loop over vm_next; returns how many VMAs were freed. */
function remove_vmas(vma: number): number {
  let count = 0;
  while (vma) {
    point('exit_mmap:remove_vma');
    const next = vma_next(vma); // v4.14's remove_vma() returns vma->vm_next, read before the free
    remove_vma(vma);
    vma = next;
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
  const vma = vma_first(mm);
  if (!vma) return; // can happen if dup_mmap() received an OOM
  const tlb = unmap_all(mm, vma);
  free_all_pgtables(tlb, vma);
  remove_vmas(vma);
}

// mm/mmap.c exit_mmap(), v4.14 (212925802454): the barrier against the reaper is keyed on
// whether *current* is an OOM victim, so a non-victim doing the last mmput() skips it (B1).
export function exit_mmap_v4_14(mm: number): void {
  munlock_all(mm);
  const vma = vma_first(mm);
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
  const vma = vma_first(mm);
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
  const vma = vma_first(mm);
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
  const vma = vma_first(mm);
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
function exit_mmap_unmap_read_locked(
  mm: number,
  first: () => number,
  mt: number,
): { vma: number; tlb: MmuGather } | null {
  mmap_read_lock(mm);
  const vma = first();
  if (!vma) {
    mmap_read_unlock(mm); // can happen if dup_mmap() received an OOM
    return null;
  }
  const tlb = unmap_all(mm, vma, mt);
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
  const r = exit_mmap_unmap_read_locked(mm, () => vma_first(mm), 0);
  if (!r) return;
  mmap_write_lock(mm);
  free_all_pgtables(r.tlb, r.vma);
  remove_vmas(r.vma);
  mmap_assert_write_locked(mm);
  kwrite(mm + MM.mmap, 0);
  mmap_write_unlock(mm);
}

/**
 * v6.1's body on the maple tree. As in the kernel, one MA_STATE(mas, &mm->mm_mt, 0, 0) finds the
 * first VMA and then walks on from it in the remove_vma() loop (unmap_vmas() and free_pgtables()
 * walk with their own): the node it holds was read under the read lock, and nobody writes the
 * tree of an mm whose users are gone. `rcu`: v6.3's mt_clear_in_rcu() once the write lock is
 * held, so that __mt_destroy() frees the node at once.
 */
function exit_mmap_tree(mm: number, rcu: boolean, vmaLocks: 'none' | 'G' | 'H' = 'none'): void {
  const mt = mm + MM.mm_mt;
  const mas: MaState = mas_init(mt, 0);
  const r = exit_mmap_unmap_read_locked(mm, () => mas_find(mas, ULONG_MAX), mt);
  if (!r) return;
  mmap_write_lock(mm);
  if (rcu) mt_clear_in_rcu(mt);
  // v6.4 free_pgtables(..., mm_wr_locked = true): vma_start_write() on every VMA before its
  // anon_vma and file links go (done here in one walk ahead of the frees).
  if (vmaLocks !== 'none') {
    const w = mas_init(mt, 0);
    for (let v = mas_find(w, ULONG_MAX); v; v = mas_find(w, ULONG_MAX)) vma_start_write(v);
  }
  free_all_pgtables(r.tlb, r.vma, mt);
  // Walk the list again, actually closing and freeing it, with preemption enabled, without holding
  // any MM locks besides the unreachable mmap_write_lock.
  let count = 0;
  let vma = r.vma;
  do {
    point('exit_mmap:remove_vma');
    if (vmaLocks === 'H') vma_mark_detached(vma);
    // v6.4 remove_vma(vma, true): unreachable (mm_users is 0, no page-fault reader can exist), freed
    // without RCU; v6.15: into the SLAB_TYPESAFE_BY_RCU cache.
    remove_vma(vma, vmaLocks === 'G');
    count++;
    vma = mas_find(mas, ULONG_MAX);
  } while (vma);
  BUG_ON(count !== kread(mm + MM.map_count), 'mm/mmap.c', 'exit_mmap');
  __mt_destroy(mt);
  mmap_write_unlock(mm);
}

// mm/mmap.c exit_mmap(), v6.1 (bf3980c85212 on the maple tree): as rfc-2022-05, the VMAs found
// with mas_find() in mm->mm_mt, counted against map_count (BUG_ON), and the tree destroyed
// (__mt_destroy) where rfc-2022-05 set mm->mmap = NULL.
export function exit_mmap_v6_1(mm: number): void {
  exit_mmap_tree(mm, false);
}

// mm/mmap.c exit_mmap(), v6.3 (3dd4432549415f "mm: enable maple tree RCU mode by default"): v6.1's,
// with mt_clear_in_rcu(&mm->mm_mt) after mmap_write_lock(): the tree's nodes are freed at once.
export function exit_mmap_v6_3(mm: number): void {
  exit_mmap_tree(mm, true);
}

// mm/mmap.c exit_mmap(), v6.4 (era G, kernel-mm.md §1): v6.3's, with free_pgtables() write-locking
// each VMA and remove_vma(vma, true) freeing them directly (seed 002: "Replace call_rcu batching
// with direct freeing from exit_mmap, per Liam R. Howlett").
export function exit_mmap_v6_4(mm: number): void {
  exit_mmap_tree(mm, true, 'G');
}

// mm/mmap.c exit_mmap(), v6.15 (era H): v6.4's, each VMA vma_mark_detached() before remove_vma(),
// which frees it into the SLAB_TYPESAFE_BY_RCU VMA cache (reusable at once).
export function exit_mmap_v6_15(mm: number): void {
  exit_mmap_tree(mm, true, 'H');
}
