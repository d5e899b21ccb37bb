// Stack expansion without the VMA write lock (kernel-mm.md §6 G3). expand_downwards() moves a
// VM_GROWSDOWN VMA's vm_start down and its vm_pgoff down with it, under mm->page_table_lock only;
// a fault elsewhere in the same VMA computes the new page's index (linear_page_index(): vm_start
// and vm_pgoff, no lock) in __page_set_anon_rmap(). A fault that reads the new vm_start and the old
// vm_pgoff gives its page an index `grow` pages off: the anon rmap walk (vma_address()) then looks
// for the page at an address where it is not mapped, and reclaim, migration and KSM miss the
// mapping.
//  - up to v6.4.0 the fault grew the stack under mmap_lock held for *reading*, concurrent with every
//    other fault of the process (and, with the maple tree, StackRot: CVE-2023-3269);
//  - v6.5 (c2508ec5a58d "mm: introduce new 'lock_mm_and_find_vma()' page fault helper", 6.4.1
//    stable) grows it under the write lock, which excludes mmap_lock faults but not 6.4's per-VMA
//    faults: 6.4.1 (here the v6.4 era) still races;
//  - c137381f71ae "mm: lock a vma before stack expansion" (Suren Baghdasaryan, v6.5-rc1; 6.4.2,
//    which also disabled CONFIG_PER_VMA_LOCK for a while) write-locks the VMA
//    too (v6.6, v6.15 here): clean.
// The RFC as posted grew stacks under the read lock (the rfc-2022-09 era takes v6.5's write lock)
// and never locked a growing VMA: its per-VMA faults race the same way.
// CPUs: a thread whose faults grow the stack page by page; a thread touching the stack's pages
// that are not present yet (first faults, under the per-VMA lock where the era has one).
// mmrace's per-VMA reader check (mm/vma_read_check.ts) sees the cause itself: vm_start moving under
// the toucher's VMA lock, often in runs whose page indexes come out right.
// Measured (2 shared cores, seed 1): v6.4 free mode 1,104/2,000 runs (first hit at run 5), PCT
// 61/10,000 (first at run 129), with the index check alone; with the reader check too, free
// 1,795/2,000 and PCT 1,113 + 61/10,000 (first at run 2); v6.6 and v6.15 clean over 2,000 free
// and 10,000 PCT runs, v6.6 over the whole DFS space at preemption bound 2 (44,924 schedules). The eras before v6.5 fail the same
// way in free mode (27-41 of 71 runs each). Test: test/catalogue_vma.test.ts.
import { cpuCtx } from '../cpu/context.js';
import { mm_alloc, spawnTask } from '../kernel/fork.js';
import { __do_page_fault } from '../mm/fault.js';
import { kread } from '../mm/kasan.js';
import { FAULT_FLAG_WRITE, linear_page_index } from '../mm/memory.js';
import { VM_ACCOUNT, VM_GROWSDOWN, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE, VMA } from '../mm/mm_types.js';
import { find_vma, mmap_anon_fixed } from '../mm/mmap.js';
import { mmap_write_lock, mmap_write_unlock } from '../mm/mmap_lock.js';
import { PAGE } from '../mm/page_alloc.js';
import {
  entry_page,
  pgd_offset,
  pgd_present,
  pmd_none,
  pmd_offset,
  pte_offset_map,
  pte_present,
} from '../mm/pgtable.js';
import { mem } from '../shm/arena.js';
import { defineBuiltinScenario } from './scenario.js';

const P = 4096;
const STACK_TOP = 0xbf800000;
/** The stack's first pages; the growing thread adds GROW more below. */
const PAGES = 8;
const GROW = 6;
const STACK = STACK_TOP - PAGES * P;
const RW = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT;

function pteAt(mm: number, addr: number): number {
  const pgdval = kread(pgd_offset(mm, addr));
  if (!pgd_present(pgdval)) return 0;
  const pmdval = kread(pmd_offset(pgdval, addr));
  return pmd_none(pmdval) ? 0 : kread(pte_offset_map(pmdval, addr));
}

export const scenario = defineBuiltinScenario({
  id: 'vma-lock-stack-expand',
  title:
    'stack expansion without the VMA write lock: a concurrent fault indexes its page with half-updated bounds',
  refs: [
    'c137381f71ae mm: lock a vma before stack expansion (v6.5-rc1; 8fbe9f328bbb in 6.4.2)',
    'lore 20230708191212.4147700-1-surenb@google.com "[PATCH v2 1/3] mm: lock a vma before stack expansion" (Suren Baghdasaryan)',
    "c2508ec5a58d mm: introduce new 'lock_mm_and_find_vma()' page fault helper (v6.5, 6.4.1 stable; StackRot, CVE-2023-3269)",
    'LWN "Stabilizing per-VMA locking" (July 2023)',
    'mm/mmap.c expand_downwards(), mm/rmap.c __page_set_anon_rmap(), include/linux/pagemap.h linear_page_index()',
  ],
  description:
    'CPU0 faults below a VM_GROWSDOWN stack, six times, each growing it by a page (expand_downwards(): ' +
    'vm_start, then vm_pgoff, under page_table_lock). CPU1 touches the stack pages not yet present; ' +
    "each first fault sets the new page's index from vm_start and vm_pgoff. When nothing excludes " +
    'the two (mmap_lock read-held by both before v6.5; the per-VMA lock, which the grower does not take, ' +
    'in 6.4.1 and the RFC), a page gets an index that does not match its address, and the rmap ' +
    'walk cannot find it. v6.6 and v6.15 grow under the write lock and write-lock the VMA.',
  variants: [
    { name: 'v6.4', era: 'v6.4', expected: 'reproduces', note: '6.4.1: write lock, no VMA lock' },
    { name: 'v6.6', era: 'v6.6', expected: 'clean', note: '"mm: lock a vma before stack expansion"' },
    { name: 'v6.15', era: 'v6.15', expected: 'clean' },
    { name: 'v6.1', era: 'v6.1', expected: 'reproduces', note: 'grown under the read lock' },
  ],
  // Every era that grows a stack while faults in it can run: under the read lock (up to v6.4.0,
  // and the rfc-2022-05 proposal on 5.18) or without the VMA lock (v6.4 = 6.4.1, the RFC).
  expectFailIn: [
    'v4.13',
    'v4.14',
    'v4.15',
    'v4.17',
    'v5.15-rc1',
    'v5.15',
    'v5.17-rc1',
    'v5.17',
    'rfc-2022-05',
    'v6.1',
    'rfc-2022-09',
    'v6.4',
  ],
  symptoms: {
    expected: [
      "final check 'every anonymous page's index matches its address'",
      // The cause itself, seen by mmrace's per-VMA reader check: vm_start moved under the toucher.
      'BUG: mmrace: VMA modified under a per-VMA reader',
    ],
    // v6.1 grows the maple tree under the read lock: StackRot, a node freed under a walker.
    acceptable: ['KASAN: slab-use-after-free in mas_'],
  },
  globals: ['mm', 'grower', 'toucher'],
  cpus: [
    {
      name: 'stack grower',
      task: 'grower',
      run: (g) => {
        for (let i = 1; i <= GROW; i++) __do_page_fault(g.mm!, STACK - i * P, FAULT_FLAG_WRITE);
      },
    },
    {
      name: 'stack user',
      task: 'toucher',
      run: (g) => {
        for (let i = PAGES - 2; i >= 0; i--) __do_page_fault(g.mm!, STACK + i * P, FAULT_FLAG_WRITE);
      },
    },
  ],
  setupOnce: true,
  setup(g) {
    const mm = mm_alloc();
    const grower = spawnTask('grower', { mm });
    const toucher = spawnTask('toucher', { mm });
    cpuCtx.current = grower;
    mmap_write_lock(mm);
    mmap_anon_fixed(mm, STACK, PAGES * P, RW | VM_GROWSDOWN);
    mmap_write_unlock(mm);
    // The top page: the stack has its anon_vma, so the per-VMA lock takes its faults (6.4.0).
    __do_page_fault(mm, STACK_TOP - P, FAULT_FLAG_WRITE);
    cpuCtx.current = 0;
    Object.assign(g, { mm, grower, toucher });
  },
  checks: [
    {
      // What rmap_walk_anon() relies on: vma_address(page, vma) = vm_start + ((index - vm_pgoff) << PAGE_SHIFT)
      // is where the page is mapped.
      name: "every anonymous page's index matches its address",
      check: ({ globals }) => {
        const mm = globals.mm!;
        const vma = find_vma(mm, STACK_TOP - P);
        if (!vma) return 'the stack VMA is gone';
        const start = kread(vma + VMA.vm_start) >>> 0;
        for (let addr = start; addr < STACK_TOP; addr += P) {
          const pte = pteAt(mm, addr);
          if (!pte_present(pte)) continue;
          const page = entry_page(pte);
          const index = Atomics.load(mem.i32, page + PAGE.index);
          const want = linear_page_index(vma, addr);
          if (index !== want)
            return `page at ${addr.toString(16)} has index ${index.toString(16)}, its address gives ${want.toString(16)}`;
        }
        return null;
      },
    },
  ],
  jitter: {
    windows: ['expand_downwards:vm_pgoff', 'handle_mm_fault'],
    probability: 0.5,
    maxSpin: 400,
    yieldShare: 0.5,
    maxYieldUs: 50,
  },
});
