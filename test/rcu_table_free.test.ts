// RCU page-table freeing (HAVE_RCU_TABLE_FREE: x86 with CONFIG_PARAVIRT from v4.14) on the boot
// CPU. A munmap() of a two-user mm hands its PTE page to tlb_remove_table(); CPU 3 plays a walker
// that took the PTE lock of that page before it left the page tables (the lock disables
// preemption). With RCU table freeing the page stays allocated and unpoisoned until CPU 3 unlocks
// and an RCU-sched grace period ends; with a grace period that ignores preempt counts (a seeded
// defect) the same check catches the free under the lock. An mm with fewer than two users takes
// v4.14's shortcut (freed at once), and CONFIG_PARAVIRT=n frees the table at tlb_finish_mmu().
import { afterEach, describe, expect, it } from 'vitest';
import { BOOT_CPU, cpuCtx } from '../src/cpu/context.js';
import { BootRunner } from '../src/cpu/free.js';
import { mmget } from '../src/kernel/fork.js';
import { spin_lock, spin_unlock } from '../src/kernel/locking/spinlock.js';
import { rcu_barrier, rcuCallbacksPending } from '../src/kernel/rcu/callbacks.js';
import { RCU_FLAVOURS_V4_14, rcuFlavour } from '../src/kernel/rcu/flavour.js';
import { kread } from '../src/mm/kasan.js';
import { free_pgd_range, unmap_vmas } from '../src/mm/memory.js';
import { VMA } from '../src/mm/mm_types.js';
import {
  pgtableFreeOps,
  RCU_TABLE_FREE_V4_14,
  TLB_REMOVE_PAGE_TABLES,
  tlb_finish_mmu,
  tlb_gather_mmu,
} from '../src/mm/mmu_gather.js';
import { PAGE, PAGE_POISON, PG_table, page_address, page_is_allocated } from '../src/mm/page_alloc.js';
import { entry_page, pgd_offset, pmd_offset, pte_lockptr } from '../src/mm/pgtable.js';
import { mem } from '../src/shm/arena.js';
import { reports } from './helpers/boot.js';
import { fault, mmap, newProcess } from './helpers/process.js';
import { onCpu, ScriptRunner } from './helpers/script_runner.js';

const ADDR = 0x10000000;

afterEach(() => {
  cpuCtx.cpu = BOOT_CPU;
  cpuCtx.runner = new BootRunner();
  cpuCtx.preemptCount = 0;
});

/** The PTE page is as a walker holding its lock needs it: allocated, a table, not poisoned. */
function intact(pte: number): boolean {
  return (
    page_is_allocated(pte) &&
    (mem.i32[pte + PAGE.flags]! & PG_table) !== 0 &&
    mem.i32[page_address(pte)] !== PAGE_POISON
  );
}

interface Outcome {
  /** The PTE page was freed (or poisoned) while CPU 3 held its lock. */
  freedUnderLock: boolean;
  /** ... at the end. */
  freedAtEnd: boolean;
  /** Still a table in the gather's list just before tlb_finish_mmu(). */
  inGatherList: boolean;
  /** RCU callbacks queued by the unmap. */
  callbacks: number;
  dmesg: string[];
}

/**
 * munmap() of one VMA of an mm with `users` users, reduced to its zap and page-table parts, while
 * CPU 3 holds the PTE lock from before free_pgtables() until the script's event 200 of the grace
 * period that rcu_barrier() then drives.
 */
function unmapUnderPteLock(era: string, users: number, brokenGp = false): Outcome {
  const p = newProcess('rtf', era);
  if (brokenGp) Object.assign(rcuFlavour, { ...RCU_FLAVOURS_V4_14, rcu_sched_gp_wait: () => {} });
  for (let u = 1; u < users; u++) mmget(p.mm);
  const vma = mmap(p.mm, ADDR, 4);
  for (let i = 0; i < 4; i++) fault(p.mm, ADDR + i * 4096);
  const pmdval = kread(pmd_offset(kread(pgd_offset(p.mm, ADDR)), ADDR));
  const pte = entry_page(pmdval);
  const ptl = pte_lockptr(pmdval);
  expect(intact(pte)).toBe(true);

  const start = kread(vma + VMA.vm_start) >>> 0;
  const end = kread(vma + VMA.vm_end) >>> 0;
  const tlb = tlb_gather_mmu(p.mm, start, end);
  unmap_vmas(tlb, vma, start, end);
  // The walker: it read the PMD and took the PTE lock before the table left the page tables.
  onCpu(3, () => spin_lock(ptl));
  let held = true;
  let freedUnderLock = false;
  free_pgd_range(tlb, start, end, 0, 0);
  const inGatherList = tlb.tables.includes(pte);
  tlb_finish_mmu(tlb, start, end);
  if (!intact(pte)) freedUnderLock = true;
  const callbacks = rcuCallbacksPending();
  cpuCtx.runner = new ScriptRunner((_ev, n) => {
    if (held && !intact(pte)) freedUnderLock = true;
    if (n === 200) {
      onCpu(3, () => spin_unlock(ptl));
      held = false;
    }
  });
  rcu_barrier();
  cpuCtx.runner = new BootRunner();
  if (held) onCpu(3, () => spin_unlock(ptl));
  return {
    freedUnderLock,
    freedAtEnd: !page_is_allocated(pte),
    inGatherList,
    callbacks,
    dmesg: p.dmesg(),
  };
}

describe('tlb_remove_table with HAVE_RCU_TABLE_FREE (v4.14, CONFIG_PARAVIRT=y)', () => {
  it('keeps a PTE page whose lock a CPU holds until an RCU-sched grace period after the unlock', () => {
    const o = unmapUnderPteLock('v4.14', 2);
    expect(o.callbacks).toBe(1); // one mmu_table_batch: the PTE page and the PMD page
    expect(o.inGatherList).toBe(false);
    expect(o.freedUnderLock).toBe(false);
    expect(o.freedAtEnd).toBe(true);
    expect(rcuCallbacksPending()).toBe(0);
    expect(reports(o.dmesg)).toEqual([]);
  });

  it('a grace period that ignores preempt counts frees the page under the lock, and is caught', () => {
    const o = unmapUnderPteLock('v4.14', 2, true);
    expect(o.callbacks).toBe(1);
    expect(o.freedUnderLock).toBe(true);
  });

  it('an mm with fewer than two users frees its tables at once, lock or not (the v4.14 shortcut)', () => {
    const o = unmapUnderPteLock('v4.14', 1);
    expect(o.callbacks).toBe(0);
    expect(o.freedUnderLock).toBe(true);
  });

  it('v4.14 and v4.15 choose it from CONFIG_PARAVIRT', () => {
    newProcess('rtf', 'v4.14');
    expect(pgtableFreeOps.tlb_remove_table).toBe(RCU_TABLE_FREE_V4_14.tlb_remove_table);
    newProcess('rtf', 'v4.15+PARAVIRT=n');
    expect(pgtableFreeOps.tlb_remove_table).toBe(TLB_REMOVE_PAGE_TABLES.tlb_remove_table);
  });
});

describe('without HAVE_RCU_TABLE_FREE (v4.14+PARAVIRT=n)', () => {
  it('frees the table at tlb_finish_mmu(), as the gather frees its pages, whoever holds its lock', () => {
    const o = unmapUnderPteLock('v4.14+PARAVIRT=n', 2);
    expect(o.callbacks).toBe(0);
    expect(o.inGatherList).toBe(true);
    expect(o.freedUnderLock).toBe(true);
    expect(o.freedAtEnd).toBe(true);
  });
});

describe('the .config in the era name', () => {
  it("'v4.14+PARAVIRT=n' is v4.14 with CONFIG_PARAVIRT=n; an unknown option is no era", async () => {
    const { eraByName } = await import('../src/eras/index.js');
    const e = eraByName('v4.14+PARAVIRT=n');
    expect(e?.name).toBe('v4.14+PARAVIRT=n');
    expect(e?.config.PARAVIRT).toBe(false);
    expect(e?.release).toBe('4.14.0');
    expect(eraByName('v4.14')?.config.PARAVIRT).toBe(true);
    expect(eraByName('v4.14+PARAVIRT=y')?.config.PARAVIRT).toBe(true);
    expect(eraByName('v4.14+SMP=n')).toBeUndefined();
    expect(eraByName('v9.9+PARAVIRT=n')).toBeUndefined();
  });
});
