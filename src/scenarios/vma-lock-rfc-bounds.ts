// The per-VMA lock RFC's reader without a bounds re-check. The RFC as posted (Suren Baghdasaryan,
// "[RFC PATCH 21/28] mm: introduce find_and_lock_anon_vma to be used from arch-specific code",
// 29 Aug 2022) finds the VMA under RCU, read-trylocks it and tests only that it is still in the
// tree (RB_EMPTY_NODE): vm_start/vm_end are not tested again once it is locked. Between the lookup
// and the trylock, munmap() of part of that VMA splits it in place (vma_mark_locked(),
// __vma_adjust() shrinking it, the middle part detached, mmap_write_unlock()'s sequence bump): the
// reader then locks a VMA that no longer covers the address, and the fault maps a page in the hole
// munmap() made, outside every VMA, where no unmap will ever find it. v2 of the series (lock_vma_under_rcu(), v6.4) re-checks the bounds after locking ("Check
// since vm_start/vm_end might change before we lock the VMA"); v6.15 re-checks them after taking
// vm_refcnt.
// CPUs: a thread faulting (write) in the upper part of an anonymous VMA through the era's fault
// entry; a thread munmap()ing the pages around that address; rcu_sched.
import { cpuCtx } from '../cpu/context.js';
import { mm_alloc, spawnTask } from '../kernel/fork.js';
import { rcu_gp_kthread } from '../kernel/rcu/gp_kthread.js';
import { __do_page_fault } from '../mm/fault.js';
import { kread } from '../mm/kasan.js';
import { FAULT_FLAG_WRITE } from '../mm/memory.js';
import { VM_ACCOUNT, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE, VMA } from '../mm/mm_types.js';
import { find_vma, mmap_anon_fixed, vm_munmap } from '../mm/mmap.js';
import { mmap_write_lock, mmap_write_unlock } from '../mm/mmap_lock.js';
import { pgd_offset, pgd_present, pmd_none, pmd_offset, pte_offset_map, pte_present } from '../mm/pgtable.js';
import { defineBuiltinScenario } from './scenario.js';

const P = 4096;
const A = 0x08000000;
const PAGES = 8;
/** The fault's address: in the part munmap() removes. */
const X = A + 5 * P;
const RW = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT;

/** The PTE mapping `addr` (0 when none), read after every CPU is done. */
function pteAt(mm: number, addr: number): number {
  const pgdval = kread(pgd_offset(mm, addr));
  if (!pgd_present(pgdval)) return 0;
  const pmdval = kread(pmd_offset(pgdval, addr));
  return pmd_none(pmdval) ? 0 : kread(pte_offset_map(pmdval, addr));
}

export const scenario = defineBuiltinScenario({
  id: 'vma-lock-rfc-bounds',
  title: 'per-VMA lock RFC: a reader locks a VMA munmap() split under it (no bounds re-check)',
  refs: [
    'LKML 2022-08-29 Suren Baghdasaryan, "[RFC PATCH 21/28] mm: introduce find_and_lock_anon_vma to be used from arch-specific code"',
    'mm/memory.c lock_vma_under_rcu() (v6.4): "Check since vm_start/vm_end might change before we lock the VMA"',
  ],
  description:
    'CPU0 write-faults at the sixth page of an anonymous 8-page VMA through the per-VMA lock. CPU1 ' +
    'munmap()s pages 5-6: the VMA is shrunk in place under its write lock, the middle part detached, ' +
    "and all released by mmap_write_unlock()'s sequence bump. The RFC's reader, having found the " +
    'VMA before the split, locks it after: it no longer covers the address, and the fault maps a ' +
    'page in the hole, outside every VMA. v6.4 and v6.15 re-check the bounds and fall back to ' +
    'mmap_lock (which finds no VMA: SIGSEGV); so does v6.6.',
  variants: [
    { name: 'rfc-2022-09', era: 'rfc-2022-09', expected: 'reproduces', note: 'no bounds re-check' },
    { name: 'v6.4', era: 'v6.4', expected: 'clean' },
    { name: 'v6.6', era: 'v6.6', expected: 'clean' },
    { name: 'v6.15', era: 'v6.15', expected: 'clean' },
  ],
  expectFailIn: ['rfc-2022-09'],
  globals: ['mm', 'faulter', 'writer', 'rcu'],
  cpus: [
    { name: 'fault', task: 'faulter', run: (g) => void __do_page_fault(g.mm!, X, FAULT_FLAG_WRITE) },
    { name: 'munmap', task: 'writer', run: (g) => void vm_munmap(g.mm!, A + 4 * P, 2 * P) },
    { name: 'rcu_sched', task: 'rcu', kthread: true, run: () => rcu_gp_kthread() },
  ],
  setupOnce: true,
  setup(g) {
    const mm = mm_alloc();
    g.mm = mm;
    g.faulter = spawnTask('faulter', { mm });
    g.writer = spawnTask('writer', { mm });
    g.rcu = spawnTask('rcu_sched', { kthread: true });
    cpuCtx.current = g.faulter;
    mmap_write_lock(mm);
    mmap_anon_fixed(mm, A, PAGES * P, RW);
    mmap_write_unlock(mm);
    // The first fault gives the VMA its anon_vma (taken on the mmap_lock path), so the next one
    // may take the per-VMA lock.
    __do_page_fault(mm, A, FAULT_FLAG_WRITE);
    cpuCtx.current = 0;
  },
  // Free mode: the reader's window between its lookup and its trylock (the RFC's point, and the
  // same step of v6.4 and v6.15, whose bounds re-check must then hold), widened so that munmap()
  // lands in it: without it, 1 free run in 200-400 hit, and the default 200 runs read NO.
  jitter: {
    windows: ['find_and_lock_anon_vma:trylock', 'vma_start_read:trylock', 'vma_start_read:inc'],
    probability: 0.5,
    maxSpin: 400,
    yieldShare: 0.5,
    maxYieldUs: 50,
  },
  checks: [
    {
      // The symptom, whatever the kernel printed: munmap() has returned, so nothing may be
      // mapped where no VMA is.
      name: 'no page mapped outside every VMA',
      check: ({ globals }) => {
        const mm = globals.mm!;
        const pte = pteAt(mm, X);
        const vma = find_vma(mm, X);
        if (!pte_present(pte) || (vma && kread(vma + VMA.vm_start) >>> 0 <= X)) return null;
        return `PTE ${(pte >>> 0).toString(16)} maps ${X.toString(16)}, which no VMA covers`;
      },
    },
  ],
});
