// mm/gup.c and mm/memory.c __access_remote_vm() (v4.14): how /proc/<pid>/cmdline, ptrace and
// process_vm_readv read another process's memory, under its mmap_sem for reading.
import { point } from '../cpu/context.js';
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';
import { down_read, up_read } from '../kernel/locking/rwsem.js';
import { kread } from './kasan.js';
import { handle_mm_fault, vm_normal_page, vma_start } from './memory.js';
import { MM, VMA } from './mm_types.js';
import { find_vma } from './mmap.js';
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

// --trace: function slices (cpu/trace_buffer.ts)
const T = {
  __access_remote_vm: traceFn('__access_remote_vm'),
};

// mm/gup.c follow_page_pte() via follow_page_mask(vma, address, FOLL_GET), v4.14: the page with a
// reference, or 0. `afterPmd` runs between the pmd_none() test and taking the PTE lock (munlock's
// preemption point there: mlock.ts).
export function follow_page(vma: number, address: number, afterPmd?: () => void): number {
  const mm = kread(vma + VMA.vm_mm);
  const pgdval = kread(pgd_offset(mm, address));
  if (!pgd_present(pgdval)) return 0;
  const pmdval = kread(pmd_offset(pgdval, address));
  if (pmd_none(pmdval)) return 0;
  afterPmd?.();
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

// mm/gup.c __get_user_pages() for one page: look it up, fault it in if needed.
export function get_user_page_remote(mm: number, address: number): number {
  const vma = find_vma(mm, address);
  if (!vma || vma_start(vma) > address) return 0;
  for (let tries = 0; tries < 2; tries++) {
    const page = follow_page(vma, address);
    if (page) return page;
    if (handle_mm_fault(vma, address, 0)) return 0;
  }
  return 0;
}

// mm/memory.c __access_remote_vm(), v4.14. Returns the bytes "read" (user data is not modelled).
export function __access_remote_vm(mm: number, addr: number, len: number): number {
  traceBegin(T.__access_remote_vm);
  try {
    let done = 0;
    down_read(mm + MM.mmap_sem);
    while (done < len) {
      const page = get_user_page_remote(mm, (addr + done) >>> 0);
      if (!page) break;
      point('access_remote_vm:copy');
      const bytes = Math.min(len - done, 4096 - ((addr + done) & 4095));
      put_page(page, '__access_remote_vm');
      done += bytes;
    }
    up_read(mm + MM.mmap_sem);
    return done;
  } finally {
    traceEnd(T.__access_remote_vm);
  }
}
