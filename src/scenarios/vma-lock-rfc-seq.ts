// Positive control for the per-VMA lock RFC of Sep 2022 (kernel-mm.md §5.1; lore
// 20220901173516.702122-1-surenb@google.com, patch 05/28 "mm: add per-VMA lock and helper functions
// to control it"): a VMA is write-locked while vm_lock_seq == mm_lock_seq; mmap_write_unlock()
// bumps mm_lock_seq (vma_mark_unlocked_all()), releasing every mark at once. mm_lock_seq is an int
// and wraps: a VMA marked long ago then reads as locked again (a false "locked"), which the RFC
// calls harmless, the reader falling back to mmap_lock (Laurent Dufour asked for it to be
// documented). A false "unlocked" cannot happen: the mark is written and tested under the VMA's
// rw_semaphore, and any bump invalidates all marks.
// Variants: the RFC as modelled (32-bit mm_lock_seq: no wrap in a run), and 'rfc-2022-09-seq2', the
// same code with mm_lock_seq kept in 2 bits, so that after four write sections the old mark of the
// faulted VMA equals mm_lock_seq again while nobody holds mmap_lock: readers then see it "locked"
// and take the mmap_lock path. Both must be clean: every write fault succeeds and maps its page.
// CPUs: two threads write-faulting through find_and_lock_anon_vma() in a VMA that was marked
// locked once (mprotect() to read-only and back, before they start); a thread mmap()ing and
// munmap()ing another VMA (write sections that bump mm_lock_seq); rcu_sched (call_rcu() frees).
// Measured (seed 1): both variants clean over 1,000 free and 10,000 PCT runs. The false "locked"
// (vma_read_trylock() failing on the sequence alone) happens 50 times in 200 free seq2 runs and 42
// times in 500 PCT runs, never with the 32-bit sequence.
import { cpuCtx, point } from '../cpu/context.js';
import { mm_alloc, spawnTask } from '../kernel/fork.js';
import { down_read, down_write, init_rwsem, RWSEM, up_read, up_write } from '../kernel/locking/rwsem.js';
import { rcu_gp_kthread } from '../kernel/rcu/gp_kthread.js';
import { __do_page_fault } from '../mm/fault.js';
import { kread } from '../mm/kasan.js';
import { FAULT_FLAG_WRITE } from '../mm/memory.js';
import { VM_ACCOUNT, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE } from '../mm/mm_types.js';
import { do_munmap, mmap_anon_fixed, PROT_READ, PROT_WRITE } from '../mm/mmap.js';
import { mmap_write_lock, mmap_write_unlock } from '../mm/mmap_lock.js';
import { mprotect } from '../mm/mprotect.js';
import {
  pgd_offset,
  pgd_present,
  pmd_none,
  pmd_offset,
  pte_offset_map,
  pte_present,
  pte_write,
} from '../mm/pgtable.js';
import { defineStatics } from '../shm/statics.js';
import { defineBuiltinScenario } from './scenario.js';

const P = 4096;
const A = 0x08000000;
/** The other VMA, whose mmap()/munmap() are the write sections that advance mm_lock_seq. */
const B = 0x09000000;
const PAGES = 6;
const SECTIONS = 6;
const RW = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT;
const ST = defineStatics('vma_lock_rfc_seq', [`gate[${RWSEM.SIZE}]`]);
/** Opened once the faulted VMA carries its mark: the faulting threads start then. */
const gate = (): number => ST.base() + ST.layout.gate;

function pteAt(mm: number, addr: number): number {
  const pgdval = kread(pgd_offset(mm, addr));
  if (!pgd_present(pgdval)) return 0;
  const pmdval = kread(pmd_offset(pgdval, addr));
  return pmd_none(pmdval) ? 0 : kread(pte_offset_map(pmdval, addr));
}

function reader(mm: number, first: number): void {
  down_read(gate());
  up_read(gate());
  for (let i = first; i < PAGES; i += 2) __do_page_fault(mm, A + i * P, FAULT_FLAG_WRITE);
}

function writer(mm: number): void {
  // One write section marks the VMA (vma_mark_locked() in mprotect_fixup()), the next restores it.
  mprotect(mm, A, PAGES * P, PROT_READ);
  mprotect(mm, A, PAGES * P, PROT_READ | PROT_WRITE);
  up_write(gate());
  for (let i = 0; i < SECTIONS; i++) {
    point('rfc_seq:section');
    mmap_write_lock(mm);
    if (i % 2 === 0) mmap_anon_fixed(mm, B, P, RW);
    else do_munmap(mm, B, P);
    mmap_write_unlock(mm); // vma_mark_unlocked_all(): mm_lock_seq + 1
  }
}

export const scenario = defineBuiltinScenario({
  id: 'vma-lock-rfc-seq',
  title:
    'per-VMA lock RFC (Sep 2022): vm_lock_seq/mm_lock_seq marks, a wrapped sequence reads as locked, clean',
  refs: [
    'lore 20220901173516.702122-1-surenb@google.com "[RFC PATCH RESEND 00/28] per-VMA locks proposal" (Suren Baghdasaryan)',
    'LKML 2022-09 "[RFC PATCH RESEND 05/28] mm: add per-VMA lock and helper functions to control it", review by Laurent Dufour (overflow)',
    'include/linux/mm.h vma_mark_locked(), vma_read_trylock(), vma_mark_unlocked_all() (RFC)',
  ],
  description:
    'CPU2 marks an anonymous VMA locked once (mprotect() read-only and back) and then mmap()s and ' +
    "munmap()s another VMA, six write sections, each ending with mm_lock_seq's bump. CPUs 0 and 1 " +
    'write-fault in the first VMA through find_and_lock_anon_vma(). With a 2-bit mm_lock_seq ' +
    "(rfc-2022-09-seq2) the VMA's stale mark equals mm_lock_seq again after four sections: readers see " +
    'it locked and take the mmap_lock path. Expected clean everywhere: every fault maps its page.',
  variants: [
    { name: 'rfc-2022-09', era: 'rfc-2022-09', expected: 'clean' },
    {
      name: 'rfc-2022-09-seq2',
      era: 'rfc-2022-09-seq2',
      expected: 'clean',
      note: 'mm_lock_seq in 2 bits: false "locked", mmap_lock fallback',
    },
    { name: 'v6.4', era: 'v6.4', expected: 'clean' },
  ],
  expectFailIn: [],
  // How a broken protocol would show: a fault that should have succeeded did not map its page
  // (a false "locked" treated as a failure), or a reader holding a VMA under a writer.
  symptoms: {
    expected: [
      "final check 'every write fault mapped its page'",
      'kernel BUG at include/linux/mm.h:vma_assert',
    ],
  },
  globals: ['mm', 'r0', 'r1', 'w', 'rcu'],
  cpus: [
    { name: 'fault', task: 'r0', run: (g) => reader(g.mm!, 0) },
    { name: 'fault', task: 'r1', run: (g) => reader(g.mm!, 1) },
    { name: 'mmap/munmap', task: 'w', run: (g) => writer(g.mm!) },
    { name: 'rcu_sched', task: 'rcu', kthread: true, run: () => rcu_gp_kthread() },
  ],
  setupOnce: true,
  setup(g) {
    init_rwsem(gate(), 'rfc_seq_gate');
    const mm = mm_alloc();
    g.mm = mm;
    g.r0 = spawnTask('r0', { mm });
    g.r1 = spawnTask('r1', { mm });
    g.w = spawnTask('w', { mm });
    g.rcu = spawnTask('rcu_sched', { kthread: true });
    cpuCtx.current = g.w;
    mmap_write_lock(mm);
    mmap_anon_fixed(mm, A, PAGES * P, RW);
    mmap_write_unlock(mm);
    __do_page_fault(mm, A + PAGES * P - P, FAULT_FLAG_WRITE); // the anon_vma (the last page)
    down_write(gate()); // the writer's, opened once the mark is set
    cpuCtx.current = 0;
  },
  checks: [
    {
      name: 'every write fault mapped its page',
      check: ({ globals }) => {
        for (let i = 0; i < PAGES; i++) {
          const pte = pteAt(globals.mm!, A + i * P);
          if (!pte_present(pte) || !pte_write(pte)) return `page ${i} of the VMA is not mapped writable`;
        }
        return null;
      },
    },
  ],
  jitter: {
    windows: ['find_and_lock_anon_vma:trylock', 'do_user_addr_fault:vma_locked', 'rfc_seq:section'],
    probability: 0.5,
    maxSpin: 400,
    yieldShare: 0.3,
    maxYieldUs: 50,
  },
});
