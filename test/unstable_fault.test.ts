// A fault in an mm the OOM reaper has reaped: since 6b31d5955cb2 (v4.13) it fails with SIGBUS under
// the PTE lock; before it (the hazard era 'v4.13-rc4') it installs a zero page where the victim's
// data was, and mmrace's populate-after-reap check (src/mm/oom_reaped_ptes.ts) reports that. The
// check is about the reaper's holes, not the flag: a never-touched address, or one the task
// unmapped and mapped again, may be populated without a report even in the hazard era.
import { describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { mm_alloc, spawnTask } from '../src/kernel/fork.js';
import { oom_reap_task_mm } from '../src/mm/era_ops.js';
import { __do_page_fault } from '../src/mm/fault.js';
import { FAULT_FLAG_WRITE, get_mm_counter, VM_FAULT_SIGBUS } from '../src/mm/memory.js';
import { MM_ANONPAGES, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE } from '../src/mm/mm_types.js';
import { do_munmap, mmap_anon_fixed } from '../src/mm/mmap.js';
import { mmap_write_lock, mmap_write_unlock } from '../src/mm/mmap_lock.js';
import { boot, reports } from './helpers/boot.js';

const A = 0x10000000;
const RW = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE;

/** A victim with A populated and A + 4096 never touched, reaped by the era's reaper. */
function reapedMm(era: string) {
  const { dmesg } = boot(era);
  const mm = mm_alloc();
  const tsk = spawnTask('victim', { mm });
  cpuCtx.current = tsk;
  mmap_write_lock(mm);
  mmap_anon_fixed(mm, A, 2 * 4096, RW);
  mmap_write_unlock(mm);
  expect(__do_page_fault(mm, A, FAULT_FLAG_WRITE)).toBe(0);
  expect(get_mm_counter(mm, MM_ANONPAGES)).toBe(1);
  expect(oom_reap_task_mm(tsk, mm)).toBe(true);
  expect(get_mm_counter(mm, MM_ANONPAGES)).toBe(0);
  return { dmesg, mm };
}

const bugs = (lines: string[]) => reports(lines).filter((l) => l.includes('OOM reaper freed'));

describe('a fault in a reaped mm', () => {
  it.each([
    'v4.13',
    'v4.14',
    'v4.17',
    'v6.1',
    'v6.15',
  ])('%s: SIGBUS at the reaped and the fresh address, silent', (era) => {
    const { dmesg, mm } = reapedMm(era);
    expect(__do_page_fault(mm, A, FAULT_FLAG_WRITE) & VM_FAULT_SIGBUS).toBe(VM_FAULT_SIGBUS);
    expect(__do_page_fault(mm, A + 4096, FAULT_FLAG_WRITE) & VM_FAULT_SIGBUS).toBe(VM_FAULT_SIGBUS);
    expect(get_mm_counter(mm, MM_ANONPAGES)).toBe(0);
    expect(reports(dmesg())).toEqual([]);
  });

  it('v4.13-rc4 (before 6b31d5955cb2): the fault repopulates the reaped page, and the check reports it', () => {
    const { dmesg, mm } = reapedMm('v4.13-rc4');
    expect(__do_page_fault(mm, A, FAULT_FLAG_WRITE)).toBe(0);
    expect(get_mm_counter(mm, MM_ANONPAGES)).toBe(1);
    const lines = dmesg();
    expect(bugs(lines)).toEqual([
      'BUG: mmrace: fault repopulated a page the OOM reaper freed, in process victim pid:100 addr:10000000',
    ]);
    expect(lines.join('\n')).toMatch(/Call Trace:/);
  });

  it('v4.13-rc4: a never-touched address is populated without a report (zeroes are its data)', () => {
    const { dmesg, mm } = reapedMm('v4.13-rc4');
    expect(__do_page_fault(mm, A + 4096, FAULT_FLAG_WRITE)).toBe(0);
    expect(reports(dmesg())).toEqual([]);
  });

  it('v4.13-rc4: unmapped and mapped again by the task, the reaped address may be populated', () => {
    const { dmesg, mm } = reapedMm('v4.13-rc4');
    mmap_write_lock(mm);
    expect(do_munmap(mm, A, 4096)).toBe(0);
    mmap_anon_fixed(mm, A, 4096, RW);
    mmap_write_unlock(mm);
    expect(__do_page_fault(mm, A, FAULT_FLAG_WRITE)).toBe(0);
    expect(reports(dmesg())).toEqual([]);
  });
});
