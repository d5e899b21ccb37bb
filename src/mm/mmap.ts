// mm/mmap.c (v4.14 / v4.15): the vm_next VMA list, anonymous mmap, remove_vma and exit_mmap.
import { point } from '../cpu/context.js';
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';
import { set_bit } from '../kernel/bitops.js';
import { down_write, up_write } from '../kernel/locking/rwsem.js';
import { get_current, might_sleep } from '../kernel/sched.js';
import { mem } from '../shm/arena.js';
import { kread, kwrite } from './kasan.js';
import { free_pgtables, unmap_vmas, vma_end, vma_next, vma_start } from './memory.js';
import { FIRST_USER_ADDRESS, MM, MMF_OOM_SKIP, USER_PGTABLES_CEILING, VMA } from './mm_types.js';
import { tlb_finish_mmu, tlb_gather_mmu } from './mmu_gather.js';
import { mm_is_oom_victim_v4_15, tsk_is_oom_victim } from './oom_kill.js';
import { kmem_cache_alloc, kmem_cache_create, kmem_cache_free } from './slab.js';

export const vm_area_cachep = kmem_cache_create('vm_area_struct', VMA.SIZE, 128);

// --trace: function slices (cpu/trace_buffer.ts)
const T = {
  remove_vma: traceFn('remove_vma'),
};

// mm/mmap.c find_vma(), v4.14 (a list walk instead of the rb-tree + vmacache)
export function find_vma(mm: number, addr: number): number {
  for (let vma = kread(mm + MM.mmap); vma; vma = vma_next(vma)) {
    if (vma_end(vma) > addr) return vma;
  }
  return 0;
}

/**
 * An anonymous private mapping at a fixed address: mmap_region() reduced to a new VMA linked into
 * the sorted list. The caller holds mmap_sem for writing. Returns the VMA, or 0.
 */
export function mmap_anon_fixed(mm: number, addr: number, len: number, vm_flags: number): number {
  const end = (addr + len) >>> 0;
  let prev = 0;
  let next = kread(mm + MM.mmap);
  while (next && vma_start(next) < end) {
    if (vma_end(next) > addr) return 0; // overlaps an existing mapping
    prev = next;
    next = vma_next(next);
  }
  const vma = kmem_cache_alloc(vm_area_cachep, 'vm_area_alloc');
  if (!vma) return 0;
  kwrite(vma + VMA.vm_start, addr);
  kwrite(vma + VMA.vm_end, end);
  kwrite(vma + VMA.vm_mm, mm);
  kwrite(vma + VMA.vm_flags, vm_flags);
  kwrite(vma + VMA.vm_pgoff, addr >>> 12);
  kwrite(vma + VMA.vm_lock_seq, -1);
  kwrite(vma + VMA.vm_prev, prev);
  kwrite(vma + VMA.vm_next, next);
  if (prev) kwrite(prev + VMA.vm_next, vma);
  else kwrite(mm + MM.mmap, vma);
  if (next) kwrite(next + VMA.vm_prev, vma);
  Atomics.add(mem.i32, mm + MM.map_count, 1);
  Atomics.add(mem.i32, mm + MM.total_vm, len >>> 12);
  return vma;
}

// mm/mmap.c remove_vma(), v4.14: close, fput, free the VMA; returns the next one.
export function remove_vma(vma: number): number {
  traceBegin(T.remove_vma);
  try {
    const next = vma_next(vma);
    might_sleep('mm/mmap.c:remove_vma');
    kmem_cache_free(vm_area_cachep, vma, 'remove_vma');
    return next;
  } finally {
    traceEnd(T.remove_vma);
  }
}

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
