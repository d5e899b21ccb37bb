// The missing acquire/release on mm_lock_seq (kernel-mm.md §6 G5; b1f02b95758d "mm: fix memory
// ordering for mm_lock_seq and vm_lock_seq", Jann Horn, v6.5-rc, stable 6.4.y). A VMA-lock reader
// trusts the VMA's fields once vma_start_read() has seen vm_lock_seq != mm_lock_seq. In 6.4.0
// vma_end_write_all() bumped mm_lock_seq with a plain WRITE_ONCE and vma_start_read() re-read it
// with READ_ONCE: on a weakly ordered CPU (arm64, powerpc) the writer's earlier stores (here
// userfaultfd_register() setting VM_UFFD_MISSING and vm_userfaultfd_ctx) may become visible after
// the bump, and the reader's load of vm_flags may be satisfied before its load of mm_lock_seq. The
// reader then handles a fault under the VMA lock on a VMA that is already userfaultfd-armed, and
// the fault is not delivered to the monitor. The fix: smp_store_release() of mm_lock_seq,
// smp_load_acquire() in the post-trylock check, WRITE_ONCE/READ_ONCE of vm_lock_seq.
//
// UNSUPPORTED: needs weak memory ordering. The emulator is sequentially consistent: every shared
// word goes through Atomics (ARCHITECTURE.md, "Shared memory"), so a store before the bump is seen
// by anyone who sees the bump, and this bug cannot show. This entry is the program, not a
// reproduction: every era, v6.4 included, is expected clean, and the v6.4 variant says why. A
// weak-memory mode (a CPU's stores made visible out of order) would make v6.4 fail here and v6.6
// stay clean; until then a hit in any era is a bug of the emulator.
// CPUs: a thread registering the VMA with userfaultfd (mmap_write_lock(), vma_start_write(), the
// flag, mmap_write_unlock()); a thread taking the VMA lock under RCU and testing
// userfaultfd_armed() as 6.4's lock_vma_under_rcu() does, a few times.
// Measured (seed 1): v6.4 clean over 1,000 free and 10,000 PCT runs; in 200 free runs the reader
// held the VMA lock after the arming section 702 times (and saw the flag each time).
import { cpuCtx, point } from '../cpu/context.js';
import { mm_alloc, spawnTask } from '../kernel/fork.js';
import { __do_page_fault } from '../mm/fault.js';
import { kread, kwrite } from '../mm/kasan.js';
import { FAULT_FLAG_WRITE } from '../mm/memory.js';
import { VM_ACCOUNT, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE, VMA } from '../mm/mm_types.js';
import { find_vma, mmap_anon_fixed } from '../mm/mmap.js';
import { mmap_read_lock, mmap_read_unlock, mmap_write_lock, mmap_write_unlock } from '../mm/mmap_lock.js';
import {
  find_and_lock_anon_vma,
  lock_vma_under_rcu,
  perVmaLockGeneration,
  vma_end_read,
  vma_read_unlock,
  vma_write_lock,
} from '../mm/vma_lock.js';
import { mem } from '../shm/arena.js';
import { defineStatics } from '../shm/statics.js';
import { defineBuiltinScenario } from './scenario.js';

const P = 4096;
const A = 0x08000000;
const PAGES = 4;
const TRIES = 6;
const RW = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT;
/** include/linux/mm.h VM_UFFD_MISSING, VM_UFFD_WP (v6.4) */
const VM_UFFD_MISSING = 0x00000200;
const VM_UFFD_WP = 0x00001000;
const ST = defineStatics('vma_lock_uffd', ['setup_seq', 'stale']);
const st = (f: 'setup_seq' | 'stale'): number => ST.base() + ST.layout[f];

// include/linux/userfaultfd_k.h userfaultfd_armed(), v6.4
function userfaultfd_armed(vma: number): boolean {
  return (kread(vma + VMA.vm_flags) & (VM_UFFD_MISSING | VM_UFFD_WP)) !== 0;
}

/** fs/userfaultfd.c userfaultfd_register(), reduced to one VMA: flags changed under the VMA write lock. */
function userfaultfd_register(mm: number): void {
  mmap_write_lock(mm);
  const vma = find_vma(mm, A);
  vma_write_lock(vma); // vm_flags_reset() -> vma_start_write()
  point('uffd:register');
  kwrite(vma + VMA.vm_flags, kread(vma + VMA.vm_flags) | VM_UFFD_MISSING);
  mmap_write_unlock(mm); // vma_end_write_all(): the bump 6.4.0 made without a release
}

/**
 * lock_vma_under_rcu()'s userfaultfd test (6.4), or the era's equivalent: a reader that got the VMA
 * lock after the register section marked the VMA must see its flag.
 */
function reader(mm: number): void {
  for (let i = 0; i < TRIES; i++) {
    const gen = perVmaLockGeneration();
    let vma = 0;
    if (gen === 'none') {
      mmap_read_lock(mm);
      vma = find_vma(mm, A);
    } else vma = gen === 'rfc-2022-09' ? find_and_lock_anon_vma(mm, A) : lock_vma_under_rcu(mm, A);
    if (vma) {
      point('uffd:reader_locked');
      const marked = kread(vma + VMA.vm_lock_seq) !== Atomics.load(mem.i32, st('setup_seq'));
      if (marked && !userfaultfd_armed(vma)) Atomics.store(mem.i32, st('stale'), 1);
      if (gen === 'none') mmap_read_unlock(mm);
      else if (gen === 'rfc-2022-09') vma_read_unlock(vma);
      else vma_end_read(vma);
    } else if (gen === 'none') mmap_read_unlock(mm);
    point('uffd:reader_retry');
  }
}

export const scenario = defineBuiltinScenario({
  id: 'vma-lock-uffd-ordering',
  title:
    'per-VMA lock: mm_lock_seq bumped without release, a reader sees a uffd-armed VMA unlocked (UNSUPPORTED: needs weak memory ordering)',
  refs: [
    'b1f02b95758d mm: fix memory ordering for mm_lock_seq and vm_lock_seq (Jann Horn, v6.5-rc; stable 6.4.y)',
    'LKML 2023-07 Jann Horn / Suren Baghdasaryan, "[PATCH v2] mm: fix memory ordering for mm_lock_seq and vm_lock_seq" (CAJuCfpHHKFDgj0DELVPLyx+YRxW=EY+JWO5SJB9+OPjPE3K3vw@mail.gmail.com)',
    'include/linux/mm.h vma_start_read(), vma_end_write_all() (v6.4); fs/userfaultfd.c userfaultfd_register()',
  ],
  description:
    'CPU0 registers an anonymous VMA with userfaultfd: under mmap_write_lock() it write-locks the VMA, ' +
    'sets VM_UFFD_MISSING and unlocks, bumping mm_lock_seq. CPU1 locks the VMA under RCU and tests ' +
    "userfaultfd_armed() as 6.4's lock_vma_under_rcu() does. In 6.4.0 the bump is not a release and " +
    "the reader's second seq check not an acquire: on arm64 the reader can see the VMA unlocked but " +
    'not yet armed. UNSUPPORTED here: the emulator is sequentially consistent (all shared words via ' +
    'Atomics), so the reordering cannot happen; every era is expected clean, v6.4 included.',
  variants: [
    {
      name: 'v6.4',
      era: 'v6.4',
      expected: 'clean',
      note: 'unsupported: needs weak memory ordering (6.4.0 has the bug; a sequentially consistent emulator cannot show it)',
    },
    { name: 'v6.6', era: 'v6.6', expected: 'clean', note: 'b1f02b95758d: release/acquire' },
    { name: 'v6.15', era: 'v6.15', expected: 'clean', note: 'mm_lock_seq a seqcount (RELEASE/ACQUIRE)' },
  ],
  // Clean everywhere while the memory model is sequential consistency (see the header): v6.4's
  // failure needs a weak-memory mode.
  expectFailIn: [],
  symptoms: {
    expected: ["final check 'a VMA-locked reader after the register section sees VM_UFFD_MISSING'"],
  },
  globals: ['mm', 'reg', 'rd'],
  cpus: [
    { name: 'userfaultfd_register', task: 'reg', run: (g) => userfaultfd_register(g.mm!) },
    { name: 'fault', task: 'rd', run: (g) => reader(g.mm!) },
  ],
  setupOnce: true,
  setup(g) {
    const mm = mm_alloc();
    g.mm = mm;
    g.reg = spawnTask('reg', { mm });
    g.rd = spawnTask('rd', { mm });
    cpuCtx.current = g.reg;
    mmap_write_lock(mm);
    const vma = mmap_anon_fixed(mm, A, PAGES * P, RW);
    mmap_write_unlock(mm);
    __do_page_fault(mm, A, FAULT_FLAG_WRITE); // the anon_vma 6.4.0's lock_vma_under_rcu() needs
    Atomics.store(mem.i32, st('setup_seq'), kread(vma + VMA.vm_lock_seq));
    cpuCtx.current = 0;
  },
  checks: [
    {
      name: 'a VMA-locked reader after the register section sees VM_UFFD_MISSING',
      check: () =>
        Atomics.load(mem.i32, st('stale'))
          ? 'the reader held the VMA lock after the section that armed it, and read it unarmed'
          : null,
    },
  ],
  jitter: {
    windows: ['uffd:register', 'uffd:reader_locked', 'uffd:reader_retry'],
    probability: 0.5,
    maxSpin: 400,
    yieldShare: 0.3,
    maxYieldUs: 30,
  },
});
