// mmrace's per-VMA reader check (src/mm/vma_read_check.ts): a VMA a reader holds read-locked must
// not change under it. Seeded defect: a writer that sets vm_flags under mmap_lock but without
// vma_start_write() while another task holds the VMA lock: reported at the reader's unlock. The
// kernel's way (vma_start_write() first, which waits for the reader, so here: after it) is silent.
// Also the era choice behind catalogue entry vma-lock-new-vma-visible: 6.4.0 stores a new VMA in
// the tree unlocked, the eras with 33313a747e81 write-lock it first.
import { describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { mm_alloc, spawnTask } from '../src/kernel/fork.js';
import { hex8 } from '../src/kernel/printk.js';
import { task_pid } from '../src/kernel/task_struct.js';
import { __do_page_fault } from '../src/mm/fault.js';
import { kread, kwrite } from '../src/mm/kasan.js';
import { FAULT_FLAG_WRITE } from '../src/mm/memory.js';
import { MM, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_SOFTDIRTY, VM_WRITE, VMA } from '../src/mm/mm_types.js';
import { mmap_anon_fixed, vm_flags_set } from '../src/mm/mmap.js';
import { mmap_write_lock, mmap_write_unlock } from '../src/mm/mmap_lock.js';
import {
  find_and_lock_anon_vma,
  lock_vma_under_rcu,
  perVmaLockGeneration,
  vma_end_read,
  vma_new_lock,
  vma_read_unlock,
} from '../src/mm/vma_lock.js';
import { boot, reports } from './helpers/boot.js';

const A = 0x10000000;
const RW = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE;
const VM_UFFD_MISSING = 0x00000200;

/** An mm with one faulted anonymous VMA (it has its anon_vma: every generation's reader takes it). */
function setup(era: string) {
  const { dmesg } = boot(era);
  const mm = mm_alloc();
  const reader = spawnTask('reader', { mm });
  const writer = spawnTask('writer', { mm });
  cpuCtx.current = writer;
  mmap_write_lock(mm);
  const vma = mmap_anon_fixed(mm, A, 4 * 4096, RW);
  mmap_write_unlock(mm);
  expect(__do_page_fault(mm, A, FAULT_FLAG_WRITE)).toBe(0);
  return { dmesg, mm, vma, reader, writer };
}

/** The era's per-VMA reader: lock as the fault does, and the matching unlock. */
function readLock(mm: number): { vma: number; unlock: (vma: number) => void } {
  if (perVmaLockGeneration() === 'rfc-2022-09')
    return { vma: find_and_lock_anon_vma(mm, A), unlock: vma_read_unlock };
  return { vma: lock_vma_under_rcu(mm, A), unlock: vma_end_read };
}

const bugs = (lines: string[]) => reports(lines).filter((l) => l.startsWith('BUG: mmrace: VMA modified'));

describe('the per-VMA reader check', () => {
  it.each([
    'rfc-2022-09',
    'v6.4',
    'v6.6',
    'v6.15',
  ])('%s: vm_flags changed without vma_start_write() under a reader is reported at its unlock', (era) => {
    const { dmesg, mm, vma, reader, writer } = setup(era);
    cpuCtx.current = reader;
    const r = readLock(mm);
    expect(r.vma).toBe(vma);
    cpuCtx.current = writer; // the seeded defect: mmap_lock alone, no VMA write lock
    mmap_write_lock(mm);
    kwrite(vma + VMA.vm_flags, kread(vma + VMA.vm_flags) | VM_UFFD_MISSING);
    mmap_write_unlock(mm);
    cpuCtx.current = reader;
    r.unlock(r.vma);
    expect(bugs(dmesg())).toEqual([
      `BUG: mmrace: VMA modified under a per-VMA reader, in process reader pid:${task_pid(reader)} vma:${hex8(vma)}`,
    ]);
    expect(dmesg().join('\n')).toContain(`vm_flags was ${hex8(RW)}, now ${hex8(RW | VM_UFFD_MISSING)}`);
  });

  it.each([
    'rfc-2022-09',
    'v6.4',
    'v6.6',
    'v6.15',
  ])('%s: the same change through vm_flags_set() (the VMA write-locked first, after the reader) is silent', (era) => {
    const { dmesg, mm, vma, reader, writer } = setup(era);
    cpuCtx.current = reader;
    const r = readLock(mm);
    expect(r.vma).toBe(vma);
    r.unlock(r.vma); // vma_start_write() waits for this
    cpuCtx.current = writer;
    mmap_write_lock(mm);
    vm_flags_set(vma, VM_UFFD_MISSING);
    mmap_write_unlock(mm);
    cpuCtx.current = reader;
    const again = readLock(mm);
    expect(again.vma).toBe(vma);
    again.unlock(again.vma);
    expect(kread(vma + VMA.vm_flags) & VM_UFFD_MISSING).toBe(VM_UFFD_MISSING);
    expect(reports(dmesg())).toEqual([]);
  });
});

describe("mmap's new VMA and the VMA write lock (§6 G2)", () => {
  const isLocked = (mm: number, vma: number): boolean =>
    kread(vma + VMA.vm_lock_seq) === kread(mm + MM.mm_lock_seq);

  /** In a write section, on a VMA not locked in it: does the era's vma_new_lock() lock it? */
  function newLockTakes(era: string): boolean {
    const { mm, vma, writer } = setup(era);
    cpuCtx.current = writer;
    mmap_write_lock(mm);
    expect(isLocked(mm, vma)).toBe(false);
    vma_new_lock(vma);
    const locked = isLocked(mm, vma);
    mmap_write_unlock(mm);
    return locked;
  }

  it('6.4.0 and the RFC store it unlocked; v6.6 and v6.15 (33313a747e81) lock it first', () => {
    expect(newLockTakes('v6.4')).toBe(false);
    expect(newLockTakes('rfc-2022-09')).toBe(false);
    expect(newLockTakes('v6.6')).toBe(true);
    expect(newLockTakes('v6.15')).toBe(true);
  });

  it.each([
    'rfc-2022-09',
    'v6.4',
    'v6.6',
    'v6.15',
  ])('%s: vm_flags_set() write-locks the VMA first; mmap_anon_fixed() ends with the new VMA locked', (era) => {
    const { mm, vma, writer } = setup(era);
    cpuCtx.current = writer;
    mmap_write_lock(mm);
    expect(isLocked(mm, vma)).toBe(false);
    vm_flags_set(vma, VM_SOFTDIRTY);
    expect(isLocked(mm, vma)).toBe(true);
    expect(isLocked(mm, mmap_anon_fixed(mm, A + 0x100000, 4096, RW))).toBe(true);
    mmap_write_unlock(mm);
  });
});
