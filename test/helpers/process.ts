// A user process for single-threaded mm tests: a task with an mm, as current, that maps
// anonymous memory, faults it in and exits.
import { expect } from 'vitest';
import { cpuCtx } from '../../src/cpu/context.js';
import { mm_alloc, mmput, spawnTask } from '../../src/kernel/fork.js';
import { down_write, up_write } from '../../src/kernel/locking/rwsem.js';
import { TASK } from '../../src/kernel/task_struct.js';
import { __do_page_fault } from '../../src/mm/fault.js';
import { kwrite } from '../../src/mm/kasan.js';
import { FAULT_FLAG_WRITE } from '../../src/mm/memory.js';
import { MM, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE } from '../../src/mm/mm_types.js';
import { mmap_anon_fixed } from '../../src/mm/mmap.js';
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

export function fault(mm: number, addr: number): void {
  expect(__do_page_fault(mm, addr, FAULT_FLAG_WRITE)).toBe(0);
}

/** The task exits: current->mm goes, the last mm_users ref is put, then every mm_count ref. */
export function exitAll(p: Proc): void {
  kwrite(p.task + TASK.mm, 0);
  kwrite(p.task + TASK.active_mm, 0);
  mmput(p.mm);
}
