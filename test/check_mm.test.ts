// check_mm() at __mmdrop (kernel/fork.c, in each era's message form) on the boot CPU: a non-zero rss counter or pgtables_bytes
// at the final mmdrop is a "BUG:" line; a clean mm is silent. __mmdrop of current->mm WARNs.
import { describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { mm_alloc, mm_cachep, mmdrop, mmgrab, mmput, spawnTask } from '../src/kernel/fork.js';
import { down_read, down_write, up_read, up_write } from '../src/kernel/locking/rwsem.js';
import { hex8 } from '../src/kernel/printk.js';
import { TASK } from '../src/kernel/task_struct.js';
import { __do_page_fault } from '../src/mm/fault.js';
import { kread, kwrite } from '../src/mm/kasan.js';
import { add_mm_counter, FAULT_FLAG_WRITE, unmap_vmas } from '../src/mm/memory.js';
import {
  MM,
  MM_ANONPAGES,
  MM_FILEPAGES,
  MM_SWAPENTS,
  VM_MAYREAD,
  VM_MAYWRITE,
  VM_READ,
  VM_WRITE,
} from '../src/mm/mm_types.js';
import { mmap_anon_fixed, remove_vma } from '../src/mm/mmap.js';
import { tlb_finish_mmu, tlb_gather_mmu } from '../src/mm/mmu_gather.js';
import { nr_free_pages, nr_pages } from '../src/mm/page_alloc.js';
import { PTE_TABLE_BYTES } from '../src/mm/pgtable.js';
import { kmem_cache_live, slab_is_live } from '../src/mm/slab.js';
import { mem } from '../src/shm/arena.js';
import { boot, reports } from './helpers/boot.js';

const RW = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE;

/** A fresh kernel, an mm, and a current task that does not use it (so __mmdrop does not WARN). */
function setup(era = 'v4.15'): { dmesg: () => string[]; mm: number; task: number } {
  const { dmesg } = boot(era);
  const mm = mm_alloc();
  expect(mm).not.toBe(0);
  const task = spawnTask('checker');
  cpuCtx.current = task;
  return { dmesg, mm, task };
}

describe('check_mm', () => {
  it('prints exactly one "Bad rss-counter state" line for MM_ANONPAGES at -1', () => {
    const { dmesg, mm } = setup('v6.1');
    add_mm_counter(mm, MM_ANONPAGES, -1);
    mmput(mm);
    expect(dmesg()).toEqual([`BUG: Bad rss-counter state mm:${hex8(mm)} type:MM_ANONPAGES val:-1`]);
    expect(slab_is_live(mm_cachep, mm)).toBe(false);
  });

  it('prints one line per bad counter, in counter order, with the value', () => {
    const { dmesg, mm } = setup('v6.1');
    add_mm_counter(mm, MM_SWAPENTS, 3);
    add_mm_counter(mm, MM_FILEPAGES, -2);
    mmput(mm);
    expect(reports(dmesg())).toEqual([
      `BUG: Bad rss-counter state mm:${hex8(mm)} type:MM_FILEPAGES val:-2`,
      `BUG: Bad rss-counter state mm:${hex8(mm)} type:MM_SWAPENTS val:3`,
    ]);
  });

  it('runs at the final mmdrop, not at the last mmput', () => {
    const { dmesg, mm } = setup('v6.1');
    mmgrab(mm);
    add_mm_counter(mm, MM_ANONPAGES, -1);
    mmput(mm);
    expect(dmesg()).toEqual([]);
    mmdrop(mm);
    expect(dmesg()).toEqual([`BUG: Bad rss-counter state mm:${hex8(mm)} type:MM_ANONPAGES val:-1`]);
  });

  it("prints each era's form: idx and nr_ptes to v4.14, idx and pgtables_bytes to v5.3, type from v5.4", () => {
    const seeded = (era: string) => {
      const { dmesg, mm } = setup(era);
      add_mm_counter(mm, MM_ANONPAGES, -1);
      Atomics.add(mem.i32, mm + MM.pgtables_bytes, 2 * PTE_TABLE_BYTES);
      mmput(mm);
      return dmesg().map((l) => l.replace(hex8(mm), 'MM'));
    };
    for (const era of ['v4.13', 'v4.14'])
      expect(seeded(era)).toEqual([
        'BUG: Bad rss-counter state mm:MM idx:1 val:-1',
        'BUG: non-zero nr_ptes on freeing mm: 2',
      ]);
    for (const era of ['v4.15', 'v4.17'])
      expect(seeded(era)).toEqual([
        'BUG: Bad rss-counter state mm:MM idx:1 val:-1',
        `BUG: non-zero pgtables_bytes on freeing mm: ${2 * PTE_TABLE_BYTES}`,
      ]);
    for (const era of ['v5.15', 'v6.1', 'v6.6'])
      expect(seeded(era)).toEqual([
        'BUG: Bad rss-counter state mm:MM type:MM_ANONPAGES val:-1',
        `BUG: non-zero pgtables_bytes on freeing mm: ${2 * PTE_TABLE_BYTES}`,
      ]);
  });

  it('prints "non-zero pgtables_bytes" for a seeded count', () => {
    const { dmesg, mm } = setup();
    Atomics.add(mem.i32, mm + MM.pgtables_bytes, PTE_TABLE_BYTES);
    mmput(mm);
    expect(dmesg()).toEqual([`BUG: non-zero pgtables_bytes on freeing mm: ${PTE_TABLE_BYTES}`]);
  });

  it('catches page tables leaked by a teardown that skipped free_pgtables', () => {
    const { dmesg, mm } = setup();
    down_write(mm + MM.mmap_sem);
    const vma = mmap_anon_fixed(mm, 0x10000000, 4096, RW);
    up_write(mm + MM.mmap_sem);
    expect(__do_page_fault(mm, 0x10000000, FAULT_FLAG_WRITE)).toBe(0);
    // Pages unmapped and freed, VMAs gone, but the PMD and PTE pages never freed.
    down_read(mm + MM.mmap_sem);
    const tlb = tlb_gather_mmu(mm, 0, -1);
    unmap_vmas(tlb, vma, 0, -1);
    tlb_finish_mmu(tlb, 0, -1);
    up_read(mm + MM.mmap_sem);
    kwrite(mm + MM.mmap, 0);
    remove_vma(vma);
    mmput(mm);
    expect(dmesg()).toEqual([`BUG: non-zero pgtables_bytes on freeing mm: ${2 * PTE_TABLE_BYTES}`]);
    expect(nr_pages() - nr_free_pages()).toBe(2); // the leaked tables
  });

  it('is silent for a clean mm', () => {
    const { dmesg, mm } = setup();
    mmput(mm);
    expect(dmesg()).toEqual([]);
    expect(slab_is_live(mm_cachep, mm)).toBe(false);
    expect(nr_free_pages()).toBe(nr_pages());
  });

  it('is silent for an mm that faulted pages and went through exit_mmap', () => {
    const { dmesg, mm } = setup();
    down_write(mm + MM.mmap_sem);
    mmap_anon_fixed(mm, 0x10000000, 4 * 4096, RW);
    mmap_anon_fixed(mm, 0x50000000, 4096, RW);
    up_write(mm + MM.mmap_sem);
    for (const a of [0x10000000, 0x10003000, 0x50000000]) {
      expect(__do_page_fault(mm, a, FAULT_FLAG_WRITE)).toBe(0);
    }
    expect(Atomics.load(mem.i32, mm + MM.pgtables_bytes)).toBe(4 * PTE_TABLE_BYTES);
    mmput(mm);
    expect(dmesg()).toEqual([]);
    expect(nr_free_pages()).toBe(nr_pages());
  });
});

describe('__mmdrop of current->mm', () => {
  it('WARNs (once per run) and still frees the mm', () => {
    const { dmesg } = boot();
    const mm = mm_alloc();
    const task = spawnTask('dropper', { mm });
    cpuCtx.current = task;
    expect(kread(task + TASK.mm)).toBe(mm);
    mmput(mm);
    const warnings = reports(dmesg()).filter((l) => l.startsWith('WARNING:'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^WARNING: CPU: -?\d+ PID: \d+ at kernel\/fork\.c:__mmdrop$/);
    expect(reports(dmesg()).some((l) => l.startsWith('BUG:'))).toBe(false);
    expect(slab_is_live(mm_cachep, mm)).toBe(false);
    expect(kmem_cache_live(mm_cachep)).toBe(0);
    expect(nr_free_pages()).toBe(nr_pages());

    // WARN_ON_ONCE: a second offence in the same run is silent.
    const mm2 = mm_alloc();
    kwrite(task + TASK.mm, mm2);
    const before = dmesg().length;
    mmput(mm2);
    expect(dmesg().length).toBe(before);
  });

  it('does not WARN once current->mm is cleared (as exit_mm does before the mmput)', () => {
    const { dmesg } = boot();
    const mm = mm_alloc();
    const task = spawnTask('dropper', { mm });
    cpuCtx.current = task;
    kwrite(task + TASK.mm, 0);
    mmput(mm);
    expect(dmesg()).toEqual([]);
  });

  it('does not WARN when current uses another mm', () => {
    const { dmesg } = boot();
    const mine = mm_alloc();
    const other = mm_alloc();
    cpuCtx.current = spawnTask('dropper', { mm: mine });
    mmput(other);
    expect(dmesg()).toEqual([]);
    expect(slab_is_live(mm_cachep, mine)).toBe(true);
  });
});
