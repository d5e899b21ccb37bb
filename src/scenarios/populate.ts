// Setup the teardown entries share: a process's private anonymous memory, mapped and touched.
import { down_write, up_write } from '../kernel/locking/rwsem.js';
import { __do_page_fault } from '../mm/fault.js';
import { HPAGE_PMD_SIZE } from '../mm/huge_memory.js';
import { FAULT_FLAG_WRITE } from '../mm/memory.js';
import {
  MM,
  VM_ACCOUNT,
  VM_HUGEPAGE,
  VM_LOCKED,
  VM_MAYREAD,
  VM_MAYWRITE,
  VM_READ,
  VM_SOFTDIRTY,
  VM_WRITE,
} from '../mm/mm_types.js';
import { mmap_anon_fixed } from '../mm/mmap.js';
import { mem } from '../shm/arena.js';

/** The vm_flags of mmap(PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS). */
export const VM_ANON_RW = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT | VM_SOFTDIRTY;

/**
 * As `current`: map `pages` pages of private anonymous memory at each of `addrs` under mmap_sem
 * for writing, then write-fault every page in, so each has its page and PTE.
 */
export function populateAnon(mm: number, addrs: readonly number[], pages: number): void {
  down_write(mm + MM.mmap_sem);
  for (const addr of addrs) mmap_anon_fixed(mm, addr, pages * 4096, VM_ANON_RW);
  up_write(mm + MM.mmap_sem);
  for (const addr of addrs) {
    for (let p = 0; p < pages; p++) __do_page_fault(mm, addr + p * 4096, FAULT_FLAG_WRITE);
  }
}

/**
 * As `current`: mmap() `nr` huge pages of private anonymous memory at `addr` (2 MiB aligned),
 * madvise(MADV_HUGEPAGE) and mlock() it: one VM_LOCKED | VM_HUGEPAGE VMA counted in locked_vm,
 * whose every 2 MiB mlock()'s populate write-faults in as a huge PMD (mm/huge_memory.ts).
 */
export function populateLockedThp(mm: number, addr: number, nr: number): void {
  const len = nr * HPAGE_PMD_SIZE;
  down_write(mm + MM.mmap_sem);
  mmap_anon_fixed(mm, addr, len, VM_ANON_RW | VM_HUGEPAGE | VM_LOCKED);
  Atomics.add(mem.i32, mm + MM.locked_vm, len >>> 12);
  up_write(mm + MM.mmap_sem);
  for (let i = 0; i < nr; i++) __do_page_fault(mm, addr + i * HPAGE_PMD_SIZE, FAULT_FLAG_WRITE);
}
