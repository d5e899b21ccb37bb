// mm/memory.c, v4.14: faults (anonymous, shmem, the write-protect fault's COW), the zap walk
// (unmap_vmas / unmap_page_range / zap_pte_range), free_pgtables and print_bad_pte. fork's
// copy_page_range is in dup_mmap.ts. Addresses are unsigned 32-bit numbers.
import { point } from '../cpu/context.js';
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';
import { add_taint, die, dump_stack, TAINT_BAD_PAGE } from '../kernel/panic.js';
import { hex8, KERN_ALERT, KERN_ERR, printk } from '../kernel/printk.js';
import { get_current } from '../kernel/sched.js';
import { task_comm } from '../kernel/task_struct.js';
import { mem } from '../shm/arena.js';
import { defineStatics } from '../shm/statics.js';
import { check_stable_address_space } from './era_ops.js';
import {
  do_huge_pmd_anonymous_page,
  HPAGE_PMD_SIZE,
  transparent_hugepage_enabled,
  VM_FAULT_FALLBACK,
  zap_huge_pmd,
} from './huge_memory.js';
import { kread, kread_locked, kwrite, kxchg } from './kasan.js';
import {
  MM,
  MM_ANONPAGES,
  MM_SHMEMPAGES,
  MM_SWAPENTS,
  MMF_UNSTABLE,
  NR_MM_COUNTERS,
  VM_SHARED,
  VM_WRITE,
  VMA,
} from './mm_types.js';
import { mmap_read_trylock, mmap_read_unlock } from './mmap_lock.js';
import {
  __tlb_remove_page,
  type MmuGather,
  pgtable_free_tlb,
  tlb_finish_mmu,
  tlb_flush_mmu_free,
  tlb_flush_mmu_tlbonly,
  tlb_gather_mmu,
} from './mmu_gather.js';
import { checkReapedPte, clearReapedPtes, markReapedPte } from './oom_reaped_ptes.js';
import {
  __free_page,
  __GFP_ZERO,
  alloc_page,
  copy_user_highpage,
  dump_page,
  GFP_HIGHUSER_MOVABLE,
  get_page,
  highest_memmap_pfn,
  PAGE,
  pfn_to_page,
  put_page,
} from './page_alloc.js';
import {
  __pmd_alloc,
  _PAGE_DIRTY,
  _PAGE_RW,
  _PAGE_USER,
  entry_page,
  mk_pte,
  mm_dec_pgtables,
  PGDIR_SIZE,
  PMD_SIZE,
  pgd_offset,
  pgd_present,
  pmd_none,
  pmd_offset,
  pmd_trans_huge,
  pte_alloc,
  pte_mkdirty,
  pte_mkwrite,
  pte_mkyoung,
  pte_none,
  pte_offset_map,
  pte_offset_map_lock,
  pte_pfn,
  pte_present,
  pte_unmap_unlock,
  pte_write,
} from './pgtable.js';
import {
  anon_vma_prepare,
  PageAnon,
  PG_swapbacked,
  page_add_file_rmap,
  page_add_new_anon_rmap,
  page_mapcount,
  page_move_anon_rmap,
  page_remove_rmap,
  SHMEM,
  shmem_getpage,
  unlink_anon_vmas,
} from './rmap.js';
import { mas_after_vma, mas_find, mm_mt, vma_end, vma_next, vma_start } from './vma_list.js';
import { FAULT_FLAG_VMA_LOCK, VM_FAULT_RETRY, vma_end_read, vmstatVmaLockReset } from './vma_lock.js';

export { vma_end, vma_next, vma_start };

export const VM_FAULT_OOM = 0x0001;
export const VM_FAULT_SIGBUS = 0x0002;
export const VM_FAULT_WRITE = 0x0008;
export const VM_FAULT_SIGSEGV = 0x0040;
export const VM_FAULT_NOPAGE = 0x0100;
export const VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV;
export const FAULT_FLAG_WRITE = 0x01;

const _KERNPG_TABLE = 0x063;
const PMD_MASK = ~(PMD_SIZE - 1) >>> 0;
const PGDIR_MASK = ~(PGDIR_SIZE - 1) >>> 0;
const u32 = (x: number): number => x >>> 0;

// --trace: function slices (cpu/trace_buffer.ts)
const T = {
  zap_pte_range: traceFn('zap_pte_range'),
  unmap_page_range: traceFn('unmap_page_range'),
  unmap_vmas: traceFn('unmap_vmas'),
  free_pgtables: traceFn('free_pgtables'),
  do_anonymous_page: traceFn('do_anonymous_page'),
  handle_mm_fault: traceFn('handle_mm_fault'),
};

export const MEMORY = defineStatics('memory', ['bad_pte_shown', 'bad_pte_unshown']);

export function memoryReset(): void {
  vmstatVmaLockReset();
  const b = MEMORY.base();
  Atomics.store(mem.i32, b + MEMORY.layout.bad_pte_shown, 0);
  Atomics.store(mem.i32, b + MEMORY.layout.bad_pte_unshown, 0);
}

function pgd_addr_end(addr: number, end: number): number {
  const boundary = u32((addr + PGDIR_SIZE) & PGDIR_MASK);
  return u32(boundary - 1) < u32(end - 1) ? boundary : end;
}

function pmd_addr_end(addr: number, end: number): number {
  const boundary = u32((addr + PMD_SIZE) & PMD_MASK);
  return u32(boundary - 1) < u32(end - 1) ? boundary : end;
}

export function add_mm_counter(mm: number, member: number, value: number): void {
  Atomics.add(mem.i32, mm + MM.rss_stat + member, value);
}

export function get_mm_counter(mm: number, member: number): number {
  return Atomics.load(mem.i32, mm + MM.rss_stat + member);
}

// include/linux/mm.h mm_counter(), v4.14: anon, else shmem (PageSwapBacked), else file. There are
// no file pages here: a page without PG_swapbacked (a freed one, under a stale PTE) counts as anon.
export function mm_counter(page: number): number {
  const flags = mem.i32[page + PAGE.flags]!;
  return flags & PG_swapbacked && !PageAnon(page) ? MM_SHMEMPAGES : MM_ANONPAGES;
}

// mm/memory.c print_bad_pte(), v4.14 (rate limited: 60 reports, then a count of the rest)
export function print_bad_pte(vma: number, addr: number, pte: number, page: number): void {
  const b = MEMORY.base();
  if (Atomics.add(mem.i32, b + MEMORY.layout.bad_pte_shown, 1) >= 60) {
    Atomics.add(mem.i32, b + MEMORY.layout.bad_pte_unshown, 1);
    return;
  }
  const mm = kread(vma + VMA.vm_mm);
  const pgdval = kread(pgd_offset(mm, addr));
  const pmdval = pgd_present(pgdval) ? kread(pmd_offset(pgdval, addr)) : 0;
  printk(
    KERN_ALERT,
    `BUG: Bad page map in process ${task_comm(get_current())}  pte:${hex8(pte)} pmd:${hex8(pmdval)}`,
  );
  if (page) dump_page(page, 'bad pte');
  printk(
    KERN_ALERT,
    [
      `addr:${hex8(addr)} vm_flags:${hex8(kread(vma + VMA.vm_flags))} anon_vma:${hex8(kread(vma + VMA.anon_vma))} mapping:${page ? hex8(mem.i32[page + 3]!) : '(null)'} index:${(addr >>> 12).toString(16)}`,
      'file:(null) fault:(null) mmap:(null) readpage:(null)',
    ].join('\n'),
  );
  dump_stack(KERN_ALERT);
  add_taint(TAINT_BAD_PAGE);
}

// mm/memory.c vm_normal_page(), v4.14 (no special or pfn mappings here)
export function vm_normal_page(vma: number, addr: number, pte: number): number {
  const pfn = pte_pfn(pte);
  if (pfn > highest_memmap_pfn()) {
    print_bad_pte(vma, addr, pte, 0);
    return 0;
  }
  return pfn_to_page(pfn);
}

/** i386 swap entries: type in bits 1..5 (__swp_type); types from MAX_SWAPFILES up are special. */
const MAX_SWAPFILES = 27;
const swp_type = (pte: number): number => (pte >>> 1) & 0x1f;
const non_swap_entry = (pte: number): boolean => swp_type(pte) >= MAX_SWAPFILES;

// mm/swapfile.c free_swap_and_cache(), v4.14, with nr_swapfiles == 0: every real swap entry is bad.
function free_swap_and_cache(pte: number): boolean {
  if (non_swap_entry(pte)) return true;
  printk(KERN_ERR, `swap_info_get: Bad swap file entry ${hex8(pte >>> 1)}`);
  return false;
}

// mm/pgtable-generic.c pgd_clear_bad() / pmd_clear_bad()
function pgd_none_or_clear_bad(pgdp: number): boolean {
  const v = kread(pgdp);
  if (v === 0) return true;
  if ((v & 0xfff & ~(_KERNPG_TABLE | _PAGE_USER)) !== 0) {
    printk(KERN_ERR, `mm/pgtable-generic.c: bad pgd ${hex8(v)}`);
    kwrite(pgdp, 0);
    return true;
  }
  return false;
}

function pmd_none_or_clear_bad(pmdp: number): boolean {
  const v = kread(pmdp);
  if (pmd_none(v)) return true;
  if ((v & 0xfff & ~_PAGE_USER) !== _KERNPG_TABLE) {
    printk(KERN_ERR, `mm/pgtable-generic.c: bad pmd ${hex8(v)}`);
    kwrite(pmdp, 0);
    return true;
  }
  return false;
}

// mm/memory.c zap_pte_range(), v4.14 (anonymous pages; swap entries are not modelled)
function zap_pte_range(tlb: MmuGather, vma: number, pmdp: number, addr: number, end: number): number {
  traceBegin(T.zap_pte_range);
  try {
    const mm = tlb.mm;
    const out = { ptl: 0 };
    for (;;) {
      let force_flush = false;
      const rss = new Int32Array(NR_MM_COUNTERS);
      // Between reading the PMD and taking the PTL the table can go away under a buggy caller.
      const pmdval = kread(pmdp);
      point('zap_pte_range:pmd');
      let pte = pte_offset_map_lock(pmdval, addr, out);
      const ptl = out.ptl;
      // mmrace's populate-after-reap check (oom_reaped_ptes.ts): the reaper stamps what it clears.
      const reaper = tlb.oomReap;
      if (!reaper) clearReapedPtes(pte, u32(end - addr) >>> 12);
      do {
        point('zap_pte');
        const ptent = kread(pte);
        if (pte_none(ptent)) continue;
        if (pte_present(ptent)) {
          const page = vm_normal_page(vma, addr, ptent);
          kxchg(pte, 0); // ptep_get_and_clear_full()
          if (reaper) markReapedPte(pte);
          if (!page) continue;
          rss[mm_counter(page)]!--;
          page_remove_rmap(page);
          if (page_mapcount(page) < 0) print_bad_pte(vma, addr, ptent, page);
          if (__tlb_remove_page(tlb, page)) {
            force_flush = true;
            addr = u32(addr + 4096);
            break;
          }
          continue;
        }
        // Not present: a swap entry. No swap device is ever set up here, so any such entry is bad.
        if (!non_swap_entry(ptent)) rss[MM_SWAPENTS]!--;
        if (!free_swap_and_cache(ptent)) print_bad_pte(vma, addr, ptent, 0);
        kwrite(pte, 0); // pte_clear_not_present_full()
      } while ((pte++, (addr = u32(addr + 4096))) !== end);
      for (let i = 0; i < NR_MM_COUNTERS; i++) if (rss[i]) add_mm_counter(mm, i, rss[i]!);
      if (force_flush) tlb_flush_mmu_tlbonly(tlb);
      pte_unmap_unlock(ptl);
      if (!force_flush) return addr;
      tlb_flush_mmu_free(tlb);
      if (addr === end) return addr;
    }
  } finally {
    traceEnd(T.zap_pte_range);
  }
}

// include/asm-generic/pgtable.h pmd_none_or_trans_huge_or_clear_bad(), v4.15: a huge PMD (or one
// a concurrent zap just cleared) is not walked as a PTE page.
function pmd_none_or_trans_huge_or_clear_bad(pmdp: number): boolean {
  return pmd_trans_huge(kread(pmdp)) || pmd_none_or_clear_bad(pmdp);
}

// mm/memory.c zap_pmd_range(), v4.15 (p4d and pud are folded on i386 PAE): a huge PMD covering
// the whole step goes with zap_huge_pmd(); splitting one for a partial zap is not modelled.
function zap_pmd_range(tlb: MmuGather, vma: number, pgdval: number, addr: number, end: number): number {
  let pmdp = pmd_offset(pgdval, addr);
  let next: number;
  do {
    next = pmd_addr_end(addr, end);
    if (pmd_trans_huge(kread(pmdp))) {
      if (u32(next - addr) !== HPAGE_PMD_SIZE)
        die('kernel BUG at mm/huge_memory.c:__split_huge_pmd (not modelled)!');
      zap_huge_pmd(tlb, vma, pmdp, addr);
    }
    if (!pmd_none_or_trans_huge_or_clear_bad(pmdp)) next = zap_pte_range(tlb, vma, pmdp, addr, next);
    point('zap_pmd_range');
  } while ((pmdp++, (addr = next)) !== end);
  return addr;
}

// mm/memory.c unmap_page_range(), v4.14
export function unmap_page_range(tlb: MmuGather, vma: number, addr: number, end: number): void {
  traceBegin(T.unmap_page_range);
  try {
    let pgdp = pgd_offset(kread(vma + VMA.vm_mm), addr);
    let next: number;
    do {
      next = pgd_addr_end(addr, end);
      if (!pgd_none_or_clear_bad(pgdp)) next = zap_pmd_range(tlb, vma, kread(pgdp), addr, next);
    } while ((pgdp++, (addr = next)) !== end);
  } finally {
    traceEnd(T.unmap_page_range);
  }
}

// mm/memory.c unmap_single_vma(), v4.14
function unmap_single_vma(tlb: MmuGather, vma: number, start_addr: number, end_addr: number): void {
  const start = Math.max(vma_start(vma), start_addr);
  if (start >= vma_end(vma)) return;
  const end = Math.min(vma_end(vma), end_addr);
  if (end <= vma_start(vma)) return;
  if (start !== end) unmap_page_range(tlb, vma, start, end);
}

// mm/memory.c zap_page_range_single(), v6.4: [address, address + size) of one VMA, in a gather of
// its own (lru_add_drain(), update_hiwater_rss() and the mmu notifiers have nothing to do here).
export function zap_page_range_single(vma: number, address: number, size: number): void {
  const end = u32(address + size);
  const tlb = tlb_gather_mmu(kread(vma + VMA.vm_mm), address, end);
  unmap_single_vma(tlb, vma, address, end);
  tlb_finish_mmu(tlb, address, end);
}

// mm/memory.c unmap_vmas(), v4.14 and v6.1 (no mmu notifiers registered): `vma` and the VMAs after
// it that start below end_addr. The next VMA is the container's: vma->vm_next up to v6.0 (the
// mm's list, or munmap's detached chain), mas_find(&mas, end_addr - 1) in the tree `mt` from v6.1
// (MA_STATE(mas, mt, vma->vm_end, vma->vm_end); &mm->mm_mt when `mt` is 0, or munmap's mt_detach).
export function unmap_vmas(tlb: MmuGather, vma: number, start_addr: number, end_addr: number, mt = 0): void {
  traceBegin(T.unmap_vmas);
  try {
    if (!vma) return;
    const mas = mas_after_vma(mt || mm_mt(kread(vma + VMA.vm_mm)), vma);
    const max = u32(u32(end_addr) - 1);
    for (; vma && vma_start(vma) < u32(end_addr); vma = mas_find(mas, max)) {
      unmap_single_vma(tlb, vma, start_addr, u32(end_addr));
      point('unmap_vmas:vma');
    }
  } finally {
    traceEnd(T.unmap_vmas);
  }
}

// mm/memory.c free_pte_range(), v4.14
function free_pte_range(tlb: MmuGather, pmdp: number): void {
  const token = entry_page(kread(pmdp));
  kwrite(pmdp, 0); // pmd_clear(): no PTL, the caller excluded every other walker
  pgtable_free_tlb(tlb, token);
  mm_dec_pgtables(tlb.mm);
}

// mm/memory.c free_pmd_range() with the folded pud level, v4.14
function free_pmd_range(
  tlb: MmuGather,
  pgdp: number,
  addr: number,
  end: number,
  floor: number,
  ceiling: number,
) {
  let start = addr;
  const pgdval = kread(pgdp);
  let pmdp = pmd_offset(pgdval, addr);
  let next: number;
  do {
    next = pmd_addr_end(addr, end);
    if (!pmd_none_or_clear_bad(pmdp)) free_pte_range(tlb, pmdp);
    point('free_pmd_range');
  } while ((pmdp++, (addr = next)) !== end);
  start = u32(start & PGDIR_MASK);
  if (start < floor) return;
  if (ceiling) {
    ceiling = u32(ceiling & PGDIR_MASK);
    if (!ceiling) return;
  }
  if (u32(end - 1) > u32(ceiling - 1)) return;
  kwrite(pgdp, 0); // pud_clear()
  pgtable_free_tlb(tlb, entry_page(pgdval));
  mm_dec_pgtables(tlb.mm);
}

// mm/memory.c free_pgd_range(), v4.14
export function free_pgd_range(
  tlb: MmuGather,
  addr: number,
  end: number,
  floor: number,
  ceiling: number,
): void {
  addr = u32(addr & PMD_MASK);
  if (addr < floor) {
    addr = u32(addr + PMD_SIZE);
    if (!addr) return;
  }
  if (ceiling) {
    ceiling = u32(ceiling & PMD_MASK);
    if (!ceiling) return;
  }
  if (u32(end - 1) > u32(ceiling - 1)) end = u32(end - PMD_SIZE);
  if (addr > u32(end - 1)) return;
  let pgdp = pgd_offset(tlb.mm, addr);
  let next: number;
  do {
    next = pgd_addr_end(addr, end);
    if (!pgd_none_or_clear_bad(pgdp)) free_pmd_range(tlb, pgdp, addr, next, floor, ceiling);
  } while ((pgdp++, (addr = next)) !== end);
}

// mm/memory.c free_pgtables(), v4.14 and v6.1 (file rmap unlinking is not modelled): the next VMA
// is the container's, as in unmap_vmas() (v6.1: mas_find(&mas, ceiling - 1) in `mt`).
export function free_pgtables(tlb: MmuGather, vma: number, floor: number, ceiling: number, mt = 0): void {
  traceBegin(T.free_pgtables);
  try {
    if (!vma) return;
    const mas = mas_after_vma(mt || mm_mt(kread(vma + VMA.vm_mm)), vma);
    const max = u32(ceiling - 1); // USER_PGTABLES_CEILING is 0: ULONG_MAX
    while (vma) {
      let next = mas_find(mas, max);
      const addr = vma_start(vma);
      // Hide vma from rmap before freeing its page tables.
      unlink_anon_vmas(vma);
      // Gather nearby VMAs into one call down.
      while (next && vma_start(next) <= u32(vma_end(vma) + PMD_SIZE)) {
        vma = next;
        next = mas_find(mas, max);
        unlink_anon_vmas(vma);
      }
      free_pgd_range(tlb, addr, vma_end(vma), floor, next ? vma_start(next) : ceiling);
      vma = next;
      point('free_pgtables:vma');
    }
  } finally {
    traceEnd(T.free_pgtables);
  }
}

// include/linux/oom.h check_stable_address_space(), v4.13 (6b31d5955cb2): a fault in an mm the
// reaper has started on fails, so no thread of the victim reads a zero page where its data was.
export function check_stable_address_space_v4_13(mm: number): number {
  return Atomics.load(mem.i32, mm + MM.flags) & (1 << MMF_UNSTABLE) ? VM_FAULT_SIGBUS : 0;
}

/** Before 6b31d5955cb2 (v4.13-rc4 and older): no check; the fault repopulates a reaped range. */
export function check_stable_address_space_none(_mm: number): number {
  return 0;
}

/** include/linux/mm.h vma_is_anonymous(): no vm_ops; here, no file behind it. */
export function vma_is_anonymous(vma: number): boolean {
  return kread(vma + VMA.vm_file) === 0;
}

// include/linux/mm.h maybe_mkwrite()
function maybe_mkwrite(pte: number, vma: number): number {
  return kread(vma + VMA.vm_flags) & VM_WRITE ? pte_mkwrite(pte) : pte;
}

/** include/linux/pagemap.h linear_page_index() */
export function linear_page_index(vma: number, address: number): number {
  return ((address - vma_start(vma)) >>> 12) + kread(vma + VMA.vm_pgoff);
}

// mm/memory.c vmf_anon_prepare(), v6.10 ("mm: Delay the check for a NULL anon_vma"): under the VMA
// lock an anon_vma is created only if mmap_lock can be had for reading at once; otherwise the VMA
// lock is dropped and the fault retried the classic way. Earlier eras' anon_vma_prepare() is the
// case without FAULT_FLAG_VMA_LOCK (their lock_vma_under_rcu() never hands over a VMA without one).
function vmf_anon_prepare(vma: number, flags: number): number {
  if (kread(vma + VMA.anon_vma)) return 0;
  if (flags & FAULT_FLAG_VMA_LOCK) {
    const mm = kread(vma + VMA.vm_mm);
    if (!mmap_read_trylock(mm)) {
      vma_end_read(vma);
      return VM_FAULT_RETRY;
    }
    const ret = anon_vma_prepare(vma) ? VM_FAULT_OOM : 0;
    mmap_read_unlock(mm);
    return ret;
  }
  return anon_vma_prepare(vma) ? VM_FAULT_OOM : 0;
}

// mm/memory.c do_anonymous_page(), v4.14 (write faults: the zero page is not modelled)
function do_anonymous_page(vma: number, pmdp: number, address: number, fault_flags: number): number {
  traceBegin(T.do_anonymous_page);
  try {
    // vm_mm, vm_flags, vm_page_prot: mmap_lock or the VMA's read lock is held (kread_locked()).
    const mm = kread_locked(vma + VMA.vm_mm);
    const flags = kread_locked(vma + VMA.vm_flags);
    if (flags & VM_SHARED) return VM_FAULT_SIGBUS;
    if (pte_alloc(mm, pmdp)) return VM_FAULT_OOM;
    const ret0 = vmf_anon_prepare(vma, fault_flags);
    if (ret0) return ret0;
    const page = alloc_page(GFP_HIGHUSER_MOVABLE | __GFP_ZERO, 'do_anonymous_page');
    if (!page) return VM_FAULT_OOM;
    let entry = mk_pte(page, kread_locked(vma + VMA.vm_page_prot));
    if (flags & VM_WRITE) entry |= _PAGE_RW | _PAGE_DIRTY;
    const out = { ptl: 0 };
    point('do_anonymous_page:lock');
    const pte = pte_offset_map_lock(kread(pmdp), address, out);
    let ret = 0;
    if (!pte_none(kread(pte)) || (ret = check_stable_address_space(mm))) {
      pte_unmap_unlock(out.ptl);
      __free_page(page, 'do_anonymous_page');
      return ret;
    }
    checkReapedPte(pte, address);
    add_mm_counter(mm, MM_ANONPAGES, 1);
    page_add_new_anon_rmap(page, vma, address);
    kwrite(pte, entry); // set_pte_at()
    pte_unmap_unlock(out.ptl);
    return 0;
  } finally {
    traceEnd(T.do_anonymous_page);
  }
}

// mm/memory.c do_read_fault() / do_shared_fault() with __do_fault() (shmem_fault()), finish_fault()
// and alloc_set_pte(), v4.14: map the shmem page at the faulting offset. The page's reference
// from shmem_getpage() becomes the mapping's. Private file mappings (do_cow_fault) do not exist.
function do_fault(vma: number, pmdp: number, address: number, flags: number): number {
  const mm = kread(vma + VMA.vm_mm);
  if (!(kread(vma + VMA.vm_flags) & VM_SHARED)) return VM_FAULT_SIGBUS;
  const file = kread(vma + VMA.vm_file);
  const index = linear_page_index(vma, address);
  if (index >= kread(file + SHMEM.size)) return VM_FAULT_SIGBUS;
  const page = shmem_getpage(file, index);
  if (!page) return VM_FAULT_OOM;
  if (pte_alloc(mm, pmdp)) {
    put_page(page, 'do_fault');
    return VM_FAULT_OOM;
  }
  const out = { ptl: 0 };
  point('do_fault:lock');
  const pte = pte_offset_map_lock(kread(pmdp), address, out);
  if (!pte_none(kread(pte))) {
    pte_unmap_unlock(out.ptl);
    put_page(page, 'do_fault');
    return VM_FAULT_NOPAGE;
  }
  let entry = mk_pte(page, kread(vma + VMA.vm_page_prot));
  if (flags & FAULT_FLAG_WRITE) entry = maybe_mkwrite(pte_mkdirty(entry), vma);
  checkReapedPte(pte, address);
  add_mm_counter(mm, mm_counter(page), 1);
  page_add_file_rmap(page);
  kwrite(pte, entry); // set_pte_at()
  pte_unmap_unlock(out.ptl);
  return 0;
}

/** struct vm_fault, for the write-protect fault (the PTE lock is held on entry). */
interface WpFault {
  vma: number;
  address: number;
  pmdp: number;
  pte: number;
  ptl: number;
  orig_pte: number;
  page: number;
}

// mm/memory.c wp_page_reuse(), v4.14: the page stays; the PTE becomes writable.
function wp_page_reuse(vmf: WpFault): number {
  const entry = maybe_mkwrite(pte_mkdirty(pte_mkyoung(vmf.orig_pte)), vmf.vma);
  kwrite(vmf.pte, entry); // ptep_set_access_flags()
  pte_unmap_unlock(vmf.ptl);
  return VM_FAULT_WRITE;
}

// mm/memory.c wp_page_copy(), v4.14: copy the page, point the PTE at the copy, drop the old
// page's mapping and (after the unlock) the reference do_wp_page() took. No PTL on entry.
function wp_page_copy(vmf: WpFault): number {
  const vma = vmf.vma;
  const mm = kread(vma + VMA.vm_mm);
  const old_page = vmf.page;
  if (anon_vma_prepare(vma)) return wp_oom(old_page);
  let new_page = alloc_page(GFP_HIGHUSER_MOVABLE, 'wp_page_copy');
  if (!new_page) return wp_oom(old_page);
  // cow_user_page(): the old page's data into the copy (a PFN mapping without a struct page has
  // no data here: its copy stays as allocated)
  if (old_page) copy_user_highpage(new_page, old_page);
  point('wp_page_copy:lock');
  const out = { ptl: 0 };
  const pte = pte_offset_map_lock(kread(vmf.pmdp), vmf.address, out);
  let page_copied = false;
  if (kread(pte) === vmf.orig_pte) {
    if (!old_page || !PageAnon(old_page)) {
      if (old_page) add_mm_counter(mm, mm_counter(old_page), -1);
      add_mm_counter(mm, MM_ANONPAGES, 1);
    }
    const entry = maybe_mkwrite(pte_mkdirty(mk_pte(new_page, kread(vma + VMA.vm_page_prot))), vma);
    kxchg(pte, 0); // ptep_clear_flush_notify()
    page_add_new_anon_rmap(new_page, vma, vmf.address);
    kwrite(pte, entry); // set_pte_at_notify()
    // Only after the PTE points at the copy may the old page's mapcount drop: a concurrent
    // do_wp_page() elsewhere must not see mapcount 1 and reuse it while this PTE still maps it.
    if (old_page) page_remove_rmap(old_page);
    new_page = old_page; // so that the old page's mapping reference goes below
    page_copied = true;
  }
  if (new_page) put_page(new_page, 'wp_page_copy');
  pte_unmap_unlock(out.ptl);
  if (old_page) put_page(old_page, 'wp_page_copy'); // do_wp_page()'s get_page()
  return page_copied ? VM_FAULT_WRITE : 0;
}

function wp_oom(old_page: number): number {
  if (old_page) put_page(old_page, 'wp_page_copy');
  return VM_FAULT_OOM;
}

// mm/memory.c do_wp_page(), v4.14: a write to a present, write-protected PTE. Reuse the page when
// this is its only mapping (reuse_swap_page(): no swap, no KSM; the page lock is not modelled),
// else copy it. A shared mapping's page is reused (wp_page_shared(): shmem has no page_mkwrite).
function do_wp_page(vmf: WpFault): number {
  const vma = vmf.vma;
  vmf.page = vm_normal_page(vma, vmf.address, vmf.orig_pte);
  if (!vmf.page) {
    pte_unmap_unlock(vmf.ptl);
    return wp_page_copy(vmf);
  }
  if (PageAnon(vmf.page)) {
    const count = page_mapcount(vmf.page);
    if (count <= 1) {
      if (count === 1) page_move_anon_rmap(vmf.page, vma);
      return wp_page_reuse(vmf);
    }
  } else if ((kread(vma + VMA.vm_flags) & (VM_WRITE | VM_SHARED)) === (VM_WRITE | VM_SHARED)) {
    return wp_page_reuse(vmf);
  }
  get_page(vmf.page);
  pte_unmap_unlock(vmf.ptl);
  return wp_page_copy(vmf);
}

// mm/memory.c handle_pte_fault(), v4.14: none -> a new page (anon or shmem); present and a write
// to a read-only PTE -> do_wp_page(); else only the young/dirty bits change. Swap entries are not
// modelled (nothing is ever swapped out): a non-present PTE is left alone.
function handle_pte_fault(vma: number, pmdp: number, address: number, flags: number): number {
  const pmdval = kread(pmdp);
  const orig_pte = pmd_none(pmdval) ? 0 : kread(pte_offset_map(pmdval, address));
  if (pte_none(orig_pte)) {
    return vma_is_anonymous(vma)
      ? do_anonymous_page(vma, pmdp, address, flags)
      : do_fault(vma, pmdp, address, flags);
  }
  if (!pte_present(orig_pte)) return 0;
  const out = { ptl: 0 };
  const pte = pte_offset_map_lock(pmdval, address, out);
  if (kread(pte) !== orig_pte) {
    pte_unmap_unlock(out.ptl);
    return 0;
  }
  let entry = orig_pte;
  if (flags & FAULT_FLAG_WRITE) {
    if (!pte_write(orig_pte)) {
      return do_wp_page({ vma, address, pmdp, pte, ptl: out.ptl, orig_pte, page: 0 });
    }
    entry = pte_mkdirty(entry);
  }
  entry = pte_mkyoung(entry);
  if (entry !== orig_pte) kwrite(pte, entry); // ptep_set_access_flags()
  pte_unmap_unlock(out.ptl);
  return 0;
}

// mm/memory.c __handle_mm_fault(), v4.14; with v4.15's create_huge_pmd() for an empty PMD of a
// VM_HUGEPAGE VMA (huge_memory.ts)
export function handle_mm_fault(vma: number, address: number, flags: number): number {
  traceBegin(T.handle_mm_fault);
  try {
    const mm = kread_locked(vma + VMA.vm_mm); // fixed for the VMA's life
    const pgdp = pgd_offset(mm, address);
    if (!pgd_present(kread(pgdp)) && __pmd_alloc(mm, pgdp)) return VM_FAULT_OOM;
    const pmdp = pmd_offset(kread(pgdp), address);
    point('handle_mm_fault');
    const pmdval = kread(pmdp);
    if (pmd_none(pmdval)) {
      if (transparent_hugepage_enabled(vma)) {
        // create_huge_pmd(): anonymous VMAs only
        const ret = vma_is_anonymous(vma)
          ? do_huge_pmd_anonymous_page(vma, pmdp, address)
          : VM_FAULT_FALLBACK;
        if (!(ret & VM_FAULT_FALLBACK)) return ret;
      }
    } else if (pmd_trans_huge(pmdval)) {
      // A huge PMD is already writable and dirty: huge_pmd_set_accessed() would only mark it young.
      return 0;
    }
    return handle_pte_fault(vma, pmdp, u32(address), flags);
  } finally {
    traceEnd(T.handle_mm_fault);
  }
}
