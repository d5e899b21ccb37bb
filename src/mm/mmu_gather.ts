// mm/memory.c (v4.14) struct mmu_gather: pages and page tables unmapped by a zap are freed only
// after the TLB flush. The gather lives on the zapping task's stack, so it is a local object.
import { point } from '../cpu/context.js';
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';
import { put_page } from './page_alloc.js';
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
  tables: number[];
}

// mm/memory.c tlb_gather_mmu(), v4.14: `fullmm` when the whole address space goes (0, -1).
export function tlb_gather_mmu(mm: number, start: number, end: number): MmuGather {
  return { mm, start, end, fullmm: start === 0 && end >>> 0 === 0xffffffff, pages: [], tables: [] };
}

/** __tlb_remove_page(): true when the batch is full and the caller must flush. */
export function __tlb_remove_page(tlb: MmuGather, page: number): boolean {
  tlb.pages.push(page);
  return tlb.pages.length >= TLB_BATCH;
}

/** pte_free_tlb() / pmd_free_tlb(): the table page is freed after the flush, like the data pages. */
export function pgtable_free_tlb(tlb: MmuGather, page: number): void {
  tlb.tables.push(page);
}

// mm/memory.c tlb_flush_mmu_tlbonly(): the TLB itself is not modelled.
export function tlb_flush_mmu_tlbonly(_tlb: MmuGather): void {
  point('tlb_flush_mmu_tlbonly');
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
