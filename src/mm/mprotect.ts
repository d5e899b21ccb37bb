// mm/mprotect.c (v4.14): mprotect(2). The range's VMAs are split at its edges and get the new
// vm_flags; change_protection() rewrites each present PTE's permission bits from the new
// vm_page_prot (pte_modify). As in v4.14, a private writable mapping's vm_page_prot has no
// _PAGE_RW: after mprotect(PROT_READ|PROT_WRITE) its PTEs stay read-only and the next write is a
// do_wp_page() fault (reuse when the page is mapped once, COW otherwise).
//
// Simplified: no vma_merge() (the split VMAs stay apart), no PROT_GROWSDOWN/PROT_GROWSUP, no
// pkeys, no NUMA hinting, no dirty accounting (vma_wants_writenotify() is false here).
import { point } from '../cpu/context.js';
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';
import { EACCES, EINTR, EINVAL, ENOMEM } from '../kernel/errno.js';
import { kread, kwrite, kxchg } from './kasan.js';
import {
  VM_ACCOUNT,
  VM_EXEC,
  VM_HUGETLB,
  VM_LOCKED,
  VM_NORESERVE,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  VMA,
} from './mm_types.js';
import {
  calc_vm_prot_bits,
  find_vma,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  populate_vma_page_range,
  split_vma,
  vm_stat_account,
  vma_set_page_prot,
} from './mmap.js';
import { mmap_write_lock_killable, mmap_write_unlock } from './mmap_lock.js';
import {
  PGDIR_SIZE,
  PMD_SIZE,
  pgd_offset,
  pgd_present,
  pmd_none,
  pmd_offset,
  pte_modify,
  pte_offset_map_lock,
  pte_present,
  pte_unmap_unlock,
} from './pgtable.js';
import { vma_after, vma_before, vma_end, vma_start } from './vma_list.js';
import { vma_write_lock } from './vma_lock.js';

const PAGE_SIZE = 4096;
/** include/uapi/asm-generic/mman-common.h PROT_SEM: accepted and ignored */
const PROT_SEM = 0x8;
const u32 = (x: number): number => x >>> 0;

// --trace: function slices (cpu/trace_buffer.ts)
const T = {
  change_protection: traceFn('change_protection'),
  do_mprotect_pkey: traceFn('do_mprotect_pkey'),
};

function addr_end(addr: number, end: number, size: number): number {
  const boundary = u32((addr + size) & ~(size - 1));
  return u32(boundary - 1) < u32(end - 1) ? boundary : end;
}

// mm/mprotect.c change_pte_range(), v4.14: each present PTE gets the new permissions under the
// PTE lock (ptep_modify_prot_start() clears it, ptep_modify_prot_commit() stores the new value).
function change_pte_range(pmdval: number, addr: number, end: number, newprot: number): number {
  const out = { ptl: 0 };
  let pte = pte_offset_map_lock(pmdval, addr, out);
  let pages = 0;
  do {
    const oldpte = kread(pte);
    if (!pte_present(oldpte)) continue;
    const ptent = pte_modify(kxchg(pte, 0), newprot);
    kwrite(pte, ptent);
    pages++;
  } while ((pte++, (addr = u32(addr + PAGE_SIZE))) !== end);
  pte_unmap_unlock(out.ptl);
  return pages;
}

// mm/mprotect.c change_pmd_range() with the folded pud level, v4.14
function change_pmd_range(pgdval: number, addr: number, end: number, newprot: number): number {
  let pmdp = pmd_offset(pgdval, addr);
  let pages = 0;
  let next: number;
  do {
    next = addr_end(addr, end, PMD_SIZE);
    const pmdval = kread(pmdp);
    if (!pmd_none(pmdval)) pages += change_pte_range(pmdval, addr, next, newprot);
    point('change_pmd_range');
  } while ((pmdp++, (addr = next)) !== end);
  return pages;
}

// mm/mprotect.c change_protection() / change_protection_range(), v4.14 (the TLB flush is not
// modelled). Returns the PTEs changed.
export function change_protection(vma: number, start: number, end: number, newprot: number): number {
  traceBegin(T.change_protection);
  try {
    let pgdp = pgd_offset(kread(vma + VMA.vm_mm), start);
    let pages = 0;
    let addr = start;
    let next: number;
    do {
      next = addr_end(addr, end, PGDIR_SIZE);
      const pgdval = kread(pgdp);
      if (pgd_present(pgdval)) pages += change_pmd_range(pgdval, addr, next, newprot);
    } while ((pgdp++, (addr = next)) !== end);
    return pages;
  } finally {
    traceEnd(T.change_protection);
  }
}

// mm/mprotect.c mprotect_fixup(), v4.14, without vma_merge(): split so that one VMA covers
// exactly [start, end), then give it the new flags and protections. `out.prev` is that VMA.
export function mprotect_fixup(
  mm: number,
  vma: number,
  out: { prev: number },
  start: number,
  end: number,
  newflags: number,
): number {
  const oldflags = kread(vma + VMA.vm_flags);
  if (newflags === oldflags) {
    out.prev = vma;
    return 0;
  }
  const nrpages = (end - start) >>> 12;
  // Private writable memory becomes accountable (nothing is charged here).
  if (newflags & VM_WRITE && !(oldflags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE))) {
    newflags |= VM_ACCOUNT;
  }
  out.prev = vma;
  if (start !== vma_start(vma)) {
    const error = split_vma(mm, vma, start, true);
    if (error) return error;
  }
  if (end !== vma_end(vma)) {
    const error = split_vma(mm, vma, end, false);
    if (error) return error;
  }
  vma_write_lock(vma); // v6.4 vm_flags_reset() -> vma_start_write()
  kwrite(vma + VMA.vm_flags, newflags);
  vma_set_page_prot(vma);
  change_protection(vma, start, end, kread(vma + VMA.vm_page_prot));
  // Private VM_LOCKED VMA becoming writable: trigger COW to avoid major fault on access.
  if ((oldflags & (VM_WRITE | VM_SHARED | VM_LOCKED)) === VM_LOCKED && newflags & VM_WRITE) {
    populate_vma_page_range(vma, start, end);
  }
  vm_stat_account(mm, oldflags, -nrpages);
  vm_stat_account(mm, newflags, nrpages);
  return 0;
}

// mm/mprotect.c do_mprotect_pkey(), v4.14 (pkey -1). `mm` is current->mm.
export function do_mprotect_pkey(mm: number, start: number, len: number, prot: number): number {
  traceBegin(T.do_mprotect_pkey);
  try {
    start = u32(start);
    if (start & (PAGE_SIZE - 1)) return -EINVAL;
    if (!len) return 0;
    len = u32((len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
    const end = start + len;
    if (end <= start || end > 2 ** 32) return -ENOMEM;
    if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)) return -EINVAL; // arch_validate_prot()
    if (mmap_write_lock_killable(mm)) return -EINTR;
    const error = mprotect_vmas(mm, start, end, prot);
    mmap_write_unlock(mm);
    return error;
  } finally {
    traceEnd(T.do_mprotect_pkey);
  }
}

/**
 * do_mprotect_pkey()'s walk over the VMAs of [start, end), under mmap_sem for writing: from
 * vma->vm_prev and prev->vm_next up to v6.0, from the tree in v6.1 (mas_prev(), then
 * find_vma(mm, prev->vm_end)), through the container either way.
 */
function mprotect_vmas(mm: number, start: number, end: number, prot: number): number {
  let vma = find_vma(mm, start);
  if (!vma || vma_start(vma) > start) return -ENOMEM;
  const out = { prev: vma_before(mm, vma) };
  if (start > vma_start(vma)) out.prev = vma;
  for (let nstart = start; ; ) {
    let newflags = calc_vm_prot_bits(prot);
    newflags |= kread(vma + VMA.vm_flags) & ~(VM_READ | VM_WRITE | VM_EXEC);
    // newflags >> 4 shift VM_MAY% in place of VM_%
    if (newflags & ~(newflags >> 4) & (VM_READ | VM_WRITE | VM_EXEC)) return -EACCES;
    const tmp = Math.min(vma_end(vma), end);
    const error = mprotect_fixup(mm, vma, out, nstart, tmp, newflags);
    if (error) return error;
    nstart = Math.max(tmp, vma_end(out.prev));
    if (nstart >= end) return 0;
    vma = vma_after(mm, out.prev);
    if (!vma || vma_start(vma) !== nstart) return -ENOMEM;
  }
}

// mm/mprotect.c SYSCALL_DEFINE3(mprotect), v4.14
export function mprotect(mm: number, start: number, len: number, prot: number): number {
  return do_mprotect_pkey(mm, start, len, prot);
}
