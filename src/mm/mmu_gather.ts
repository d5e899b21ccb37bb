// mm/memory.c (v4.14) struct mmu_gather: pages and page tables unmapped by a zap are freed only
// after the TLB flush. The gather lives on the zapping task's stack, so it is a local object.
//
// Page tables go one of two ways, chosen by the era profile from the kernel's .config
// (arch/x86/Kconfig v4.14: `select HAVE_RCU_TABLE_FREE if PARAVIRT`, 9e52fc2b50de):
//  - without HAVE_RCU_TABLE_FREE, ___pte_free_tlb() is tlb_remove_page(): the table page is freed
//    with the gather's pages, after the TLB flush (here at tlb_finish_mmu());
//  - with it, tlb_remove_table() batches table pages in a page of its own, and each TLB flush hands
//    the batch to call_rcu_sched(): the tables are freed after an RCU-sched grace period, so a CPU
//    that reached a table with preemption disabled (holding its PTE lock, or GUP-fast with
//    interrupts off) finishes with it first. Unless the mm has fewer than two users: then the
//    table is freed at once (the v4.14 shortcut, removed in v4.19 by a6f572084fbe "mm/tlb: Remove
//    tlb_remove_table() non-concurrent condition").
import { point } from '../cpu/context.js';
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';
import { call_rcu_sched, defineRcuCallback } from '../kernel/rcu/callbacks.js';
import { kread, kwrite } from './kasan.js';
import { MM } from './mm_types.js';
import { __free_page, alloc_page, PAGE_WORDS, page_address, put_page, virt_to_page } from './page_alloc.js';
import { pgtable_free } from './pgtable.js';

/** Pages batched before a forced flush; small, so zaps exercise the force_flush path. */
export const TLB_BATCH = 64;

// --trace: function slices (cpu/trace_buffer.ts)
const T = {
  tlb_finish_mmu: traceFn('tlb_finish_mmu'),
};

export interface MmuGather {
  mm: number;
  start: number;
  end: number;
  fullmm: boolean;
  pages: number[];
  /** Table pages freed at tlb_finish_mmu() (tlb_remove_page()'s way). */
  tables: number[];
  /** struct mmu_table_batch (kernel address of its page), 0 when none (HAVE_RCU_TABLE_FREE). */
  batch: number;
  /** mmrace: the OOM reaper's gather (its zaps are stamped for the populate check, oom_reaped_ptes.ts). */
  oomReap: boolean;
}

/** How ___pte_free_tlb()/___pmd_free_tlb() hand a table page to the gather, and the flush of it. */
export interface PgtableFreeOps {
  /** arch/x86/mm/pgtable.c ___pte_free_tlb(): the table page leaves the page tables. */
  tlb_remove_table(tlb: MmuGather, table: number): void;
  /** mm/memory.c tlb_table_flush(), at every TLB flush. */
  tlb_table_flush(tlb: MmuGather): void;
}

// include/asm-generic/tlb.h (v4.14) struct mmu_table_batch, in its own page: the rcu_head (two
// words), nr, then the table pages.
const BATCH_RCU = 0;
const BATCH_NR = 2;
const BATCH_TABLES = 3;
// include/asm-generic/tlb.h MAX_TABLE_BATCH, v4.14
export const MAX_TABLE_BATCH = PAGE_WORDS - BATCH_TABLES;
/** __get_free_page(GFP_NOWAIT | __GFP_NOWARN): the allocator here never sleeps anyway. */
const GFP_NOWAIT = 0;

// mm/memory.c tlb_gather_mmu(), v4.14: `fullmm` when the whole address space goes (0, -1).
export function tlb_gather_mmu(mm: number, start: number, end: number): MmuGather {
  return {
    mm,
    start,
    end,
    fullmm: start === 0 && end >>> 0 === 0xffffffff,
    pages: [],
    tables: [],
    batch: 0,
    oomReap: false,
  };
}

/** __tlb_remove_page(): true when the batch is full and the caller must flush. */
export function __tlb_remove_page(tlb: MmuGather, page: number): boolean {
  tlb.pages.push(page);
  return tlb.pages.length >= TLB_BATCH;
}

// include/asm-generic/tlb.h tlb_remove_table() without HAVE_RCU_TABLE_FREE, v4.14: the table page
// is one more page of the gather (kept apart so that it is freed at tlb_finish_mmu()).
function tlb_remove_page_table(tlb: MmuGather, table: number): void {
  tlb.tables.push(table);
}

function tlb_table_flush_none(_tlb: MmuGather): void {}

// arch/x86/include/asm/tlb.h __tlb_remove_table(), v4.14: free_page_and_swap_cache().
function __tlb_remove_table(table: number, site: string): void {
  pgtable_free(table, site);
}

// mm/memory.c tlb_remove_table_rcu(), v4.14: the RCU-sched callback that frees a batch.
const tlb_remove_table_rcu = defineRcuCallback('tlb_remove_table_rcu', (head) => {
  const batch = head - BATCH_RCU;
  const nr = kread(batch + BATCH_NR);
  for (let i = 0; i < nr; i++) __tlb_remove_table(kread(batch + BATCH_TABLES + i), 'tlb_remove_table_rcu');
  __free_page(virt_to_page(batch), 'tlb_remove_table_rcu');
});

// mm/memory.c tlb_table_flush(), v4.14
export function tlb_table_flush_v4_14(tlb: MmuGather): void {
  if (tlb.batch) {
    call_rcu_sched(tlb.batch + BATCH_RCU, tlb_remove_table_rcu);
    tlb.batch = 0;
  }
}

// mm/memory.c tlb_remove_table_one(), v4.14: no batch page, so tlb_remove_table_sync_one() (an IPI
// that every CPU with interrupts on answers) and free at once. Interrupts are not modelled, so the
// IPI returns at once: only GUP-fast, which walks with interrupts off, would be protected by it.
function tlb_remove_table_one(table: number): void {
  __tlb_remove_table(table, 'tlb_remove_table_one');
}

// mm/memory.c tlb_remove_table(), v4.14 (CONFIG_HAVE_RCU_TABLE_FREE)
export function tlb_remove_table_v4_14(tlb: MmuGather, table: number): void {
  // "When there's less then two users of this mm there cannot be a concurrent page-table walk."
  // (Not so for the OOM reaper of v4.14, which walks holding only mm_count.)
  if (kread(tlb.mm + MM.mm_users) < 2) {
    __tlb_remove_table(table, 'tlb_remove_table');
    return;
  }
  if (tlb.batch === 0) {
    const page = alloc_page(GFP_NOWAIT, 'tlb_remove_table');
    if (!page) {
      tlb_remove_table_one(table);
      return;
    }
    tlb.batch = page_address(page);
    kwrite(tlb.batch + BATCH_NR, 0);
  }
  const nr = kread(tlb.batch + BATCH_NR);
  kwrite(tlb.batch + BATCH_TABLES + nr, table);
  kwrite(tlb.batch + BATCH_NR, nr + 1);
  if (nr + 1 === MAX_TABLE_BATCH) tlb_table_flush_v4_14(tlb);
}

/** x86 without HAVE_RCU_TABLE_FREE (CONFIG_PARAVIRT=n): tables freed after the TLB flush. */
export const TLB_REMOVE_PAGE_TABLES: PgtableFreeOps = {
  tlb_remove_table: tlb_remove_page_table,
  tlb_table_flush: tlb_table_flush_none,
};

/** x86 v4.14 with HAVE_RCU_TABLE_FREE (CONFIG_PARAVIRT=y): tables freed after RCU-sched. */
export const RCU_TABLE_FREE_V4_14: PgtableFreeOps = {
  tlb_remove_table: tlb_remove_table_v4_14,
  tlb_table_flush: tlb_table_flush_v4_14,
};

/** The era profile's choice (src/eras/); until one is applied, tables go with the pages. */
export const pgtableFreeOps: PgtableFreeOps = { ...TLB_REMOVE_PAGE_TABLES };

/** pte_free_tlb() / pmd_free_tlb(): the table page leaves the page tables. */
export function pgtable_free_tlb(tlb: MmuGather, page: number): void {
  pgtableFreeOps.tlb_remove_table(tlb, page);
}

// mm/memory.c tlb_flush_mmu_tlbonly(), v4.14: the TLB itself is not modelled; the table batch goes
// to RCU here (v4.19, db7ddef30112, moved that to tlb_flush_mmu_free()).
export function tlb_flush_mmu_tlbonly(tlb: MmuGather): void {
  point('tlb_flush_mmu_tlbonly');
  pgtableFreeOps.tlb_table_flush(tlb);
}

// mm/memory.c tlb_flush_mmu_free(): free_pages_and_swap_cache()
export function tlb_flush_mmu_free(tlb: MmuGather): void {
  for (const page of tlb.pages) put_page(page, 'tlb_flush_mmu_free');
  tlb.pages.length = 0;
}

export function tlb_flush_mmu(tlb: MmuGather): void {
  tlb_flush_mmu_tlbonly(tlb);
  tlb_flush_mmu_free(tlb);
}

// mm/memory.c tlb_finish_mmu(), v4.14
export function tlb_finish_mmu(tlb: MmuGather, _start: number, _end: number): void {
  traceBegin(T.tlb_finish_mmu);
  try {
    tlb_flush_mmu(tlb);
    for (const page of tlb.tables) pgtable_free(page, 'tlb_finish_mmu');
    tlb.tables.length = 0;
  } finally {
    traceEnd(T.tlb_finish_mmu);
  }
}
