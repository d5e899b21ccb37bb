// Fork vs a per-VMA-locked fault (kernel-mm.md §6 G1; bugzilla.kernel.org 217624, Go builds
// corrupting memory on 6.4, bisected to 0bff0aaea03e "x86/mm: try VMA lock-based page fault
// handling first"; LWN "Stabilizing per-VMA locking", July 2023). dup_mmap() holds only
// mmap_write_lock(oldmm), which since 6.4 no longer keeps the parent's other threads from faulting:
// their write faults take the VMA lock. copy_page_range() write-protects the parent's PTEs table by
// table; a parent thread whose store meets a PTE fork already write-protected COWs the page at
// once (wp_page_copy() under the VMA lock) and carries on, and its next store, to a PTE fork has
// not reached yet, lands in a page fork then shares with the child. The child sees the thread's
// later store without its earlier one: its memory is no snapshot of the parent's. Before 6.4 (and
// with fb49c455323f, 6.4.3/v6.5, which write-locks each parent VMA in dup_mmap()) that fault waits
// for fork to finish.
// The Go corruption the reporters saw came the same way but through the parent's stale TLB entries
// (Suren's first version of the fix: a write fault before dup_mmap()'s flush_tlb_mm() replaces the
// page under another thread still writing to the old one). The emulator has no TLB; the child's
// snapshot shows the same missing exclusion with the PTEs alone.
// The RFC (Sep 2022) marked each parent VMA locked before copy_page_range() (patch 07/28); the
// merged series dropped it, so only v6.4 (6.4.0-6.4.2) has the bug.
// CPUs: a parent thread fork()ing; another parent thread storing an increasing counter to two
// pages in two page tables of one anonymous VMA, the first then the second, over and over.
// Measured (2 shared cores, seed 1): v6.4 free mode 426/500 runs (first hit at run 3, about 8 ms
// in), PCT 433/10,000 (first at run 14); v6.6 clean over 1,000 free and 10,000 PCT runs and the
// whole DFS space at preemption bound 2 (2,030 schedules); v6.15, rfc-2022-09 and v6.1 clean over
// 10,000 PCT runs. Test: test/catalogue_vma.test.ts.
import { cpuCtx, point } from '../cpu/context.js';
import { mm_alloc, spawnTask } from '../kernel/fork.js';
import { down_read, down_write, init_rwsem, RWSEM, up_read, up_write } from '../kernel/locking/rwsem.js';
import { TASK } from '../kernel/task_struct.js';
import { copy_mm } from '../mm/dup_mmap.js';
import { __do_page_fault } from '../mm/fault.js';
import { kread, kwrite } from '../mm/kasan.js';
import { FAULT_FLAG_WRITE } from '../mm/memory.js';
import { VM_ACCOUNT, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE } from '../mm/mm_types.js';
import { mmap_anon_fixed } from '../mm/mmap.js';
import { mmap_write_lock, mmap_write_unlock } from '../mm/mmap_lock.js';
import { page_address } from '../mm/page_alloc.js';
import {
  entry_page,
  PMD_SIZE,
  pgd_offset,
  pgd_present,
  pmd_none,
  pmd_offset,
  pte_offset_map,
  pte_present,
  pte_write,
} from '../mm/pgtable.js';
import { mem } from '../shm/arena.js';
import { defineStatics } from '../shm/statics.js';
import { defineBuiltinScenario } from './scenario.js';

const P = 4096;
const A = 0x08000000;
/** The two pages the thread stores to: the first and the last page of the VMA, one PTE table each. */
const Q1 = A;
const Q2 = A + PMD_SIZE;
const LEN = PMD_SIZE + P;
/** The thread's stores per page: it stops early once fork() returned. */
const STORES = 24;
const RW = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT;
const ST = defineStatics('vma_lock_fork', ['forked', 'seen1', 'seen2', `gate[${RWSEM.SIZE}]`]);
const st = (f: 'forked' | 'seen1' | 'seen2'): number => ST.base() + ST.layout[f];
/** The forking thread opens it when it calls fork(): the storing thread starts then. */
const gate = (): number => ST.base() + ST.layout.gate;

/** The PTE mapping `addr` in `mm` (0 when none): the MMU's walk, no lock. */
function pteAt(mm: number, addr: number): number {
  const pgdval = kread(pgd_offset(mm, addr));
  if (!pgd_present(pgdval)) return 0;
  const pmdval = kread(pmd_offset(pgdval, addr));
  return pmd_none(pmdval) ? 0 : kread(pte_offset_map(pmdval, addr));
}

/**
 * A user store of one word: the MMU walks the page tables and stores through a present, writable
 * PTE; anything else is a write fault (do_user_addr_fault(): the per-VMA lock first), and the store
 * is retried. The walk and the store are not one step: a PTE write-protected in between is what a
 * stale TLB entry gives until the flush.
 */
function user_store(mm: number, addr: number, val: number): void {
  for (let tries = 0; tries < 4; tries++) {
    const pte = pteAt(mm, addr);
    if (pte_present(pte) && pte_write(pte)) {
      kwrite(page_address(entry_page(pte)), val);
      return;
    }
    if (__do_page_fault(mm, addr, FAULT_FLAG_WRITE)) return; // SIGSEGV/OOM: nothing stored
  }
}

/** A user load of one word through the page tables (0 where nothing is mapped). */
function user_load(mm: number, addr: number): number {
  const pte = pteAt(mm, addr);
  return pte_present(pte) ? kread(page_address(entry_page(pte))) : 0;
}

function forker(child: number): void {
  up_write(gate()); // the other thread may go
  if (copy_mm(0, child)) return; // -ENOMEM: no child
  Atomics.store(mem.i32, st('forked'), 1);
  // The child runs: what does its memory hold?
  const cmm = Atomics.load(mem.i32, child + TASK.mm);
  Atomics.store(mem.i32, st('seen1'), user_load(cmm, Q1));
  Atomics.store(mem.i32, st('seen2'), user_load(cmm, Q2));
}

function storer(mm: number): void {
  down_read(gate());
  up_read(gate());
  for (let i = 1; i <= STORES && !Atomics.load(mem.i32, st('forked')); i++) {
    user_store(mm, Q1, i);
    user_store(mm, Q2, i);
    point('fork_cow:store');
  }
}

export const scenario = defineBuiltinScenario({
  id: 'vma-lock-fork',
  title: 'fork vs a per-VMA-locked fault: dup_mmap() does not write-lock the parent VMAs (6.4.0-6.4.2)',
  refs: [
    'bugzilla.kernel.org 217624 (Jiri Slaby, Holger Hoffstätte, Jacob Young: memory corruption in Go builds on 6.4)',
    'lore 20230706011400.2949242-3-surenb@google.com "fork: lock VMAs of the parent process when forking" (Suren Baghdasaryan)',
    'fb49c455323f fork: lock VMAs of the parent process when forking (v6.5-rc1, 6.4.3)',
    '0bff0aaea03e x86/mm: try VMA lock-based page fault handling first (v6.4)',
    'LKML 2022-08-29 "[RFC PATCH 07/28] kernel/fork: mark VMAs as locked before copying pages during fork"',
    'kernel/fork.c dup_mmap(), mm/memory.c copy_present_pte(), wp_page_copy() (v6.4)',
  ],
  description:
    "CPU0 is a parent thread in fork(): dup_mmap() copies the parent's one anonymous VMA, " +
    'write-protecting its PTEs one page table after the other under mmap_write_lock(oldmm). CPU1 is ' +
    'another parent thread storing 1, 2, 3... to the first page and then to the last page of the VMA ' +
    '(two page tables). In 6.4.0 the store that meets the write-protected first page faults under the ' +
    'VMA lock, COWs the page and returns; the next store goes to the last page before fork copies it: ' +
    'the child sees the second store without the first. With fb49c455323f (v6.6 here) the VMA is ' +
    'write-locked by fork, the fault falls back to mmap_lock and waits for fork, as before 6.4.',
  variants: [
    {
      name: 'v6.4',
      era: 'v6.4',
      expected: 'reproduces',
      note: '6.4.0-6.4.2: dup_mmap() without vma_start_write()',
    },
    { name: 'v6.6', era: 'v6.6', expected: 'clean', note: 'fb49c455323f: each parent VMA write-locked' },
    { name: 'v6.15', era: 'v6.15', expected: 'clean' },
    {
      name: 'rfc-2022-09',
      era: 'rfc-2022-09',
      expected: 'clean',
      note: 'the RFC marked the parent VMA locked before copy_page_range()',
    },
    { name: 'v6.1', era: 'v6.1', expected: 'clean', note: 'no per-VMA locks: the fault waits on mmap_lock' },
  ],
  expectFailIn: ['v6.4'],
  symptoms: { expected: ["final check 'the child's memory is a snapshot of the parent's'"] },
  globals: ['mm', 'parent', 'thread', 'child'],
  cpus: [
    { name: 'fork', task: 'parent', run: (g) => forker(g.child!) },
    { name: 'parent thread', task: 'thread', run: (g) => storer(g.mm!) },
  ],
  setupOnce: true,
  setup(g) {
    init_rwsem(gate(), 'fork_cow_gate');
    const mm = mm_alloc();
    const parent = spawnTask('parent', { mm });
    const thread = spawnTask('thread', { mm });
    const child = spawnTask('child');
    cpuCtx.current = parent;
    mmap_write_lock(mm);
    mmap_anon_fixed(mm, A, LEN, RW);
    mmap_write_unlock(mm);
    // Both pages present and writable, the VMA with its anon_vma: fork copies their PTEs, and the
    // later write faults may take the per-VMA lock.
    __do_page_fault(mm, Q1, FAULT_FLAG_WRITE);
    __do_page_fault(mm, Q2, FAULT_FLAG_WRITE);
    down_write(gate()); // the forking thread's
    cpuCtx.current = 0;
    Object.assign(g, { mm, parent, thread, child });
  },
  checks: [
    {
      // The thread stored to the first page, then to the second: a fork that is a snapshot of the
      // parent at some instant shows its second page no newer than its first.
      name: "the child's memory is a snapshot of the parent's",
      check: () => {
        const s1 = Atomics.load(mem.i32, st('seen1'));
        const s2 = Atomics.load(mem.i32, st('seen2'));
        return s2 <= s1
          ? null
          : `the child sees store ${s2} to the second page but only store ${s1} to the first`;
      },
    },
  ],
  // Free mode: fork is preempted between the two page tables (copy_pte_range()'s cond_resched())
  // often and for long enough that the storing thread gets its fault and its next store in.
  jitter: {
    windows: ['copy_pte_range', 'fork_cow:store'],
    probability: 0.3,
    maxSpin: 400,
    yieldShare: 0.5,
    maxYieldUs: 30,
    overrides: { copy_pte_range: { probability: 0.9, yieldShare: 1, maxYieldUs: 300 } },
  },
});
