// A fault in an mm the OOM reaper has started on (MMF_UNSTABLE): since 6b31d5955cb2 (v4.13) it
// fails with SIGBUS under the PTE lock; before it (the hazard era 'v4.13-rc4') it installs a zero
// page where the victim's data was. (No detector reports that yet: MMF_UNSTABLE may be set just
// after the fault's check, legitimately, so the flag at set_pte_at() proves nothing.)
import { describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { set_bit } from '../src/kernel/bitops.js';
import { mm_alloc, spawnTask } from '../src/kernel/fork.js';
import { __do_page_fault } from '../src/mm/fault.js';
import { FAULT_FLAG_WRITE, get_mm_counter, VM_FAULT_SIGBUS } from '../src/mm/memory.js';
import {
  MM,
  MM_ANONPAGES,
  MMF_UNSTABLE,
  VM_MAYREAD,
  VM_MAYWRITE,
  VM_READ,
  VM_WRITE,
} from '../src/mm/mm_types.js';
import { mmap_anon_fixed } from '../src/mm/mmap.js';
import { mmap_write_lock, mmap_write_unlock } from '../src/mm/mmap_lock.js';
import { boot, reports } from './helpers/boot.js';

const A = 0x10000000;
const RW = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE;

function reapedMm(era: string) {
  const { dmesg } = boot(era);
  const mm = mm_alloc();
  cpuCtx.current = spawnTask('victim', { mm });
  mmap_write_lock(mm);
  mmap_anon_fixed(mm, A, 2 * 4096, RW);
  mmap_write_unlock(mm);
  expect(__do_page_fault(mm, A, FAULT_FLAG_WRITE)).toBe(0);
  set_bit(MMF_UNSTABLE, mm + MM.flags); // __oom_reap_task_mm() started
  return { dmesg, mm };
}

describe('a fault in an MMF_UNSTABLE mm', () => {
  it.each(['v4.13', 'v4.14', 'v6.1', 'v6.15'])('%s: SIGBUS, nothing installed, silent', (era) => {
    const { dmesg, mm } = reapedMm(era);
    expect(__do_page_fault(mm, A + 4096, FAULT_FLAG_WRITE) & VM_FAULT_SIGBUS).toBe(VM_FAULT_SIGBUS);
    expect(reports(dmesg())).toEqual([]);
  });

  it('v4.13-rc4 (before 6b31d5955cb2): the fault repopulates the reaped mm', () => {
    const { mm } = reapedMm('v4.13-rc4');
    expect(__do_page_fault(mm, A + 4096, FAULT_FLAG_WRITE)).toBe(0);
    expect(get_mm_counter(mm, MM_ANONPAGES)).toBe(2);
  });
});
