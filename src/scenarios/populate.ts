// Setup the teardown entries share: a process's private anonymous memory, mapped and touched.
import { down_write, up_write } from '../kernel/locking/rwsem.js';
import { __do_page_fault } from '../mm/fault.js';
import { FAULT_FLAG_WRITE } from '../mm/memory.js';
import { MM, VM_ACCOUNT, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_SOFTDIRTY, VM_WRITE } from '../mm/mm_types.js';
import { mmap_anon_fixed } from '../mm/mmap.js';

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
