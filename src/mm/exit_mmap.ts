// mm/mmap.c exit_mmap() in each era's form: who may still walk or zap the address space while the
// last mmput() tears it down (kernel-mm.md §1). The era profile picks one (era_ops.ts).
import { point } from '../cpu/context.js';
import { set_bit } from '../kernel/bitops.js';
import { down_write, up_write } from '../kernel/locking/rwsem.js';
import { get_current } from '../kernel/sched.js';
import { kread } from './kasan.js';
import { free_pgtables, unmap_vmas } from './memory.js';
import { FIRST_USER_ADDRESS, MM, MMF_OOM_SKIP, USER_PGTABLES_CEILING } from './mm_types.js';
import { remove_vma } from './mmap.js';
import { tlb_finish_mmu, tlb_gather_mmu } from './mmu_gather.js';
import { mm_is_oom_victim_v4_15, tsk_is_oom_victim } from './oom_kill.js';

/** The remove_vma() loop that ends exit_mmap(): free every VMA without holding any mm lock. */
function remove_vmas(vma: number): void {
  while (vma) {
    point('exit_mmap:remove_vma');
    vma = remove_vma(vma);
  }
}

// mm/mmap.c exit_mmap(), v4.14 (212925802454): the barrier against the reaper is keyed on
// whether *current* is an OOM victim, so a non-victim doing the last mmput() skips it.
// (mmu notifiers, munlock and arch_exit_mmap have nothing to do in these scenarios.)
export function exit_mmap_v4_14(mm: number): void {
  const vma = kread(mm + MM.mmap);
  if (!vma) return; // can happen if dup_mmap() received an OOM
  const tlb = tlb_gather_mmu(mm, 0, -1);
  unmap_vmas(tlb, vma, 0, -1); // concurrent with the reaper's unmap_page_range(): harmless
  set_bit(MMF_OOM_SKIP, mm + MM.flags);
  point('exit_mmap:oom_skip_set');
  if (tsk_is_oom_victim(get_current())) {
    // Wait for oom_reap_task() to stop working on this mm; after up_write() it sees MMF_OOM_SKIP.
    down_write(mm + MM.mmap_sem);
    up_write(mm + MM.mmap_sem);
  }
  point('exit_mmap:free_pgtables');
  free_pgtables(tlb, vma, FIRST_USER_ADDRESS, USER_PGTABLES_CEILING);
  tlb_finish_mmu(tlb, 0, -1);
  remove_vmas(vma);
}

// mm/mmap.c exit_mmap(), v4.15 (4837fe37adff): the barrier is keyed on the mm (MMF_OOM_VICTIM),
// and MMF_OOM_SKIP is set only for victims, just before it.
export function exit_mmap_v4_15(mm: number): void {
  const vma = kread(mm + MM.mmap);
  if (!vma) return;
  const tlb = tlb_gather_mmu(mm, 0, -1);
  unmap_vmas(tlb, vma, 0, -1);
  if (mm_is_oom_victim_v4_15(mm)) {
    set_bit(MMF_OOM_SKIP, mm + MM.flags);
    point('exit_mmap:oom_skip_set');
    down_write(mm + MM.mmap_sem);
    up_write(mm + MM.mmap_sem);
  }
  point('exit_mmap:free_pgtables');
  free_pgtables(tlb, vma, FIRST_USER_ADDRESS, USER_PGTABLES_CEILING);
  tlb_finish_mmu(tlb, 0, -1);
  remove_vmas(vma);
}
