// A user process for single-threaded mm tests: a task with an mm, as current, that maps
// anonymous memory, faults it in, forks and exits; and walkers that read its VMAs and page tables.
import { expect } from 'vitest';
import { cpuCtx } from '../../src/cpu/context.js';
import { mm_alloc, mmput, spawnTask } from '../../src/kernel/fork.js';
import { down_write, up_write } from '../../src/kernel/locking/rwsem.js';
import { rcu_barrier } from '../../src/kernel/rcu/callbacks.js';
import { TASK } from '../../src/kernel/task_struct.js';
import { copy_mm } from '../../src/mm/dup_mmap.js';
import { __do_page_fault } from '../../src/mm/fault.js';
import { kread, kwrite } from '../../src/mm/kasan.js';
import { maple_node_caches, maple_tree_cachep } from '../../src/mm/maple_tree.js';
import { FAULT_FLAG_WRITE, VM_FAULT_ERROR } from '../../src/mm/memory.js';
import { MM, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE, VMA } from '../../src/mm/mm_types.js';
import { for_each_vma, mmap_anon_fixed } from '../../src/mm/mmap.js';
import { pfn_to_page } from '../../src/mm/page_alloc.js';
import {
  entry_page,
  entry_table,
  PGDIR_SIZE,
  PMD_SIZE,
  PTRS_PER_PGD,
  PTRS_PER_PMD,
  PTRS_PER_PTE,
  pgd_offset,
  pgd_present,
  pmd_none,
  pmd_offset,
  pte_offset_map,
  pte_pfn,
  pte_present,
} from '../../src/mm/pgtable.js';
import { kmem_cache_live } from '../../src/mm/slab.js';
import { mem } from '../../src/shm/arena.js';
import { boot } from './boot.js';

export const PAGE_SZ = 4096;
export const RW = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE;

export interface Proc {
  dmesg: () => string[];
  mm: number;
  task: number;
}

/** A fresh kernel and a task `comm` whose mm is empty; the task is current. */
export function newProcess(comm: string, era = 'v4.15'): Proc {
  const { dmesg } = boot(era);
  const mm = mm_alloc();
  expect(mm).not.toBe(0);
  const task = spawnTask(comm, { mm });
  cpuCtx.current = task;
  return { dmesg, mm, task };
}

/** An anonymous private mapping of `pages` pages at `addr`, under mmap_sem for writing. */
export function mmap(mm: number, addr: number, pages: number): number {
  down_write(mm + MM.mmap_sem);
  const vma = mmap_anon_fixed(mm, addr, pages * PAGE_SZ, RW);
  up_write(mm + MM.mmap_sem);
  expect(vma).not.toBe(0);
  return vma;
}

/** A write fault that must succeed (a fresh page, or a COW break: VM_FAULT_WRITE). */
export function fault(mm: number, addr: number): void {
  expect(__do_page_fault(mm, addr, FAULT_FLAG_WRITE) & VM_FAULT_ERROR).toBe(0);
}

/** fork(): a new task `comm` whose mm is a copy of `parent`'s (copy_mm() as `parent`). */
export function forkProcess(parent: Proc, comm: string): Proc {
  cpuCtx.current = parent.task;
  const task = spawnTask(comm);
  expect(copy_mm(0, task)).toBe(0);
  const mm = kread(task + TASK.mm);
  expect(mm).not.toBe(0);
  return { dmesg: parent.dmesg, mm, task };
}

export interface VmaInfo {
  vma: number;
  start: number;
  end: number;
  flags: number;
  pgoff: number;
  anon_vma: number;
  file: number;
}

/** The mm's VMAs, lowest first. */
export function vmaList(mm: number): VmaInfo[] {
  return [...for_each_vma(mm)].map((vma) => ({
    vma,
    start: kread(vma + VMA.vm_start) >>> 0,
    end: kread(vma + VMA.vm_end) >>> 0,
    flags: kread(vma + VMA.vm_flags),
    pgoff: kread(vma + VMA.vm_pgoff),
    anon_vma: kread(vma + VMA.anon_vma),
    file: kread(vma + VMA.vm_file),
  }));
}

export interface PteInfo {
  addr: number;
  pte: number;
  page: number;
}

/**
 * Every non-none PTE of the mm, and its table pages (PMD and PTE pages, not the PGD). The tables
 * are read with plain loads, not kread(): a checker, not kernel code (and 2048 entries per mm).
 */
export function walkPageTables(mm: number): { ptes: PteInfo[]; tables: number[]; spans: number[][] } {
  const ptes: PteInfo[] = [];
  const tables: number[] = [];
  const spans: number[][] = []; // the [start, end) each table maps, beside `tables`
  const i32 = mem.i32;
  const pgd = kread(mm + MM.pgd);
  for (let i = 0; i < PTRS_PER_PGD; i++) {
    const pgdval = Atomics.load(i32, pgd + i);
    if (!pgd_present(pgdval)) continue;
    tables.push(entry_page(pgdval));
    spans.push([i * PGDIR_SIZE, (i + 1) * PGDIR_SIZE]);
    const pmd = entry_table(pgdval);
    for (let j = 0; j < PTRS_PER_PMD; j++) {
      const pmdval = Atomics.load(i32, pmd + j);
      if (pmd_none(pmdval)) continue;
      tables.push(entry_page(pmdval));
      const base = (i * PGDIR_SIZE + j * PMD_SIZE) >>> 0;
      spans.push([base, base + PMD_SIZE]);
      const table = entry_table(pmdval);
      for (let k = 0; k < PTRS_PER_PTE; k++) {
        const pte = Atomics.load(i32, table + k);
        if (!pte) continue;
        const addr = (base + k * PAGE_SZ) >>> 0;
        ptes.push({ addr, pte, page: pte_present(pte) ? pfn_to_page(pte_pfn(pte)) : 0 });
      }
    }
  }
  return { ptes, tables, spans };
}

/** The present PTE at `addr`, or 0. */
export function pteAt(mm: number, addr: number): number {
  const pgdval = kread(pgd_offset(mm, addr));
  if (!pgd_present(pgdval)) return 0;
  const pmdval = kread(pmd_offset(pgdval, addr));
  if (pmd_none(pmdval)) return 0;
  return kread(pte_offset_map(pmdval, addr));
}

/** The page mapped at `addr`, or 0. */
export function pageAt(mm: number, addr: number): number {
  const pte = pteAt(mm, addr);
  return pte_present(pte) ? pfn_to_page(pte_pfn(pte)) : 0;
}

/** The task exits: current->mm goes, the last mm_users ref is put, then every mm_count ref. */
export function exitAll(p: Proc): void {
  kwrite(p.task + TASK.mm, 0);
  kwrite(p.task + TASK.active_mm, 0);
  mmput(p.mm);
}

/**
 * Live maple tree nodes and trees (on-stack mt_detach ones), once every RCU callback queued so far
 * has run: the nodes an RCU-mode tree retired with kfree_rcu() are then gone too.
 */
export function mapleNodesLive(): number {
  rcu_barrier();
  return maple_node_caches.reduce((n, c) => n + kmem_cache_live(c), 0) + kmem_cache_live(maple_tree_cachep);
}
