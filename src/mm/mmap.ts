// mm/mmap.c (v4.14 / v4.15): the vm_next VMA list, anonymous mmap and remove_vma (exit_mmap in
// each era's form is exit_mmap.ts).
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';
import { might_sleep } from '../kernel/sched.js';
import { mem } from '../shm/arena.js';
import { kread, kwrite } from './kasan.js';
import { vma_end, vma_next, vma_start } from './memory.js';
import { MM, VMA } from './mm_types.js';
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
