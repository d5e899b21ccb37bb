// exit_mmap()'s direct free of VMAs (v6.4, era G: remove_vma(vma, true) without call_rcu; v6.15,
// era H: into the SLAB_TYPESAFE_BY_RCU cache). Suren's argument in the Jan 2023 thread (kernel-mm.md
// §5.2): a per-VMA reader needs the mm's users, and exit_mmap() runs only when there are none, so
// no reader can hold a VMA it frees. A reader holds mm_users through get_task_mm()/mmget_not_zero()
// (/proc/<pid>/mem: mm_count pinned at open, mm_users by mmget_not_zero() per access) and looks a
// VMA up through lock_vma_under_rcu() (the era's per-VMA lookup; mmap_lock before v6.4):
//  - this scenario, every era: the reader drops the VMA lock, then mmput(): clean (whoever puts
//    last runs exit_mmap() with every reader gone);
//  - vma-lock-exit-mmap-past-mmput (v6.4, an illegal reader): the reader keeps the VMA past its own
//    mmput(): the owner's mmput() is then the last, exit_mmap() write-locks the VMA (waiting for
//    the reader) and frees it directly; vma_end_read()'s rcu_read_lock() does not cover a free
//    without RCU, so the reader's up_read() wake-up runs on freed memory: KASAN
//    slab-use-after-free in rwsem_wake().
// CPUs: the reader, the owner's exit_mm() (after the reader's mmput(): a gate), a late wake_q
// wake-up of the owner (the writer awake in its slowpath: kernel-locking.md §1.14), rcu_sched.
// Measured: clean in every era over the matrix (71 free runs each); v6.4 and v6.15 over 300 PCT
// runs (test/vma_lock_scenarios.test.ts).
import { cpuCtx, point } from '../cpu/context.js';
import { exit_mm } from '../kernel/exit.js';
import { mm_alloc, mmdrop, mmget_not_zero, mmgrab, mmput, spawnTask } from '../kernel/fork.js';
import { down_read, down_write, init_rwsem, RWSEM, up_read, up_write } from '../kernel/locking/rwsem.js';
import { rcu_gp_kthread } from '../kernel/rcu/gp_kthread.js';
import { __do_page_fault } from '../mm/fault.js';
import { kread } from '../mm/kasan.js';
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
} from '../mm/vma_lock.js';
import { mem } from '../shm/arena.js';
import { defineStatics } from '../shm/statics.js';
import { lateWakeups } from './late_wake.js';
import { defineBuiltinScenario, type Globals } from './scenario.js';

const P = 4096;
const A = 0x08000000;
const PAGES = 4;
const RW = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT;
const ST = defineStatics('vma_lock_exit_mmap', ['past', `gate[${RWSEM.SIZE}]`]);
/** The owner's exit waits for the reader's mmput() (so the owner's is the last): a gate it opens. */
const gate = (): number => ST.base() + ST.layout.gate;
const WAKES = 4;

/**
 * The era's way to a VMA without mmap_lock for writing: lock_vma_under_rcu() (v6.4+), the RFC's
 * find_and_lock_anon_vma(), or mmap_lock for reading where there are no per-VMA locks.
 */
function lockVma(mm: number): { vma: number; unlock: (vma: number) => void } {
  const gen = perVmaLockGeneration();
  if (gen === 'none') {
    mmap_read_lock(mm);
    const vma = find_vma(mm, A);
    if (!vma) mmap_read_unlock(mm);
    return { vma, unlock: () => mmap_read_unlock(mm) };
  }
  if (gen === 'rfc-2022-09') return { vma: find_and_lock_anon_vma(mm, A), unlock: vma_read_unlock };
  return { vma: lock_vma_under_rcu(mm, A), unlock: vma_end_read };
}

function reader(mm: number): void {
  access(mm);
  mmdrop(mm); // the mm_count proc_mem_open() took
}

function access(mm: number): void {
  if (!mmget_not_zero(mm)) return void up_write(gate()); // the process is gone
  const past = Atomics.load(mem.i32, ST.base() + ST.layout.past) === 1;
  const { vma, unlock } = lockVma(mm);
  if (!vma) {
    mmput(mm);
    up_write(gate());
    return;
  }
  point('exit_mmap_reader:locked');
  if (past) {
    mmput(mm); // the bug: the VMA outlives the reader's reference to the mm
    up_write(gate());
  }
  point('exit_mmap_reader:use');
  kread(vma + VMA.vm_flags);
  unlock(vma);
  if (!past) {
    mmput(mm);
    up_write(gate());
  }
}

/**
 * The scenario's body, shared with vma-lock-exit-mmap-past-mmput.ts: `past` makes the reader keep
 * its VMA past its own mmput() (that scenario's illegal reader).
 */
export function exitMmapBody(past: boolean) {
  return {
    globals: ['mm', 'rd', 'owner', 'waker', 'rcu'],
    cpus: [
      { name: 'reader', task: 'rd', run: (g: Globals) => reader(g.mm!) },
      {
        name: 'owner exit',
        task: 'owner',
        run: () => {
          down_read(gate());
          up_read(gate());
          exit_mm();
        },
      },
      {
        // Late wake_q wake-ups of the owner (kernel-locking.md §1.14): exit_mmap()'s vma_start_write()
        // retries the rwsem without waiting for the reader's rwsem_wake().
        name: 'late wake_q',
        task: 'waker',
        run: (g: Globals) => lateWakeups(gate(), 'exit_mmap:late_wake', WAKES, g.owner!),
      },
      { name: 'rcu_sched', task: 'rcu', kthread: true, run: () => rcu_gp_kthread() },
    ],
    setupOnce: true,
    setup(g: Globals) {
      Atomics.store(mem.i32, ST.base() + ST.layout.past, past ? 1 : 0);
      const mm = mm_alloc();
      const owner = spawnTask('owner', { mm });
      const rd = spawnTask('reader');
      const waker = spawnTask('waker');
      const rcu = spawnTask('rcu_sched', { kthread: true });
      init_rwsem(gate(), 'exit_mmap_gate');
      cpuCtx.current = owner;
      mmap_write_lock(mm);
      mmap_anon_fixed(mm, A, PAGES * P, RW);
      mmap_write_unlock(mm);
      __do_page_fault(mm, A, FAULT_FLAG_WRITE); // the anon_vma lock_vma_under_rcu() needs (v6.4.0)
      cpuCtx.current = rd;
      mmgrab(mm); // the reader's /proc/<pid>/mem open: proc_mem_open() pins mm_count
      down_write(gate()); // the reader's, opened at its mmput()
      cpuCtx.current = 0;
      Object.assign(g, { mm, rd, owner, waker, rcu });
    },
    checks: [],
    jitter: {
      windows: [
        'exit_mmap_reader:locked',
        'exit_mmap_reader:use',
        'exit_mmap:free_pgtables',
        '__up_read:released',
        'exit_mmap:late_wake',
      ],
      probability: 0.5,
      maxSpin: 400,
      yieldShare: 0.5,
      maxYieldUs: 100,
      overrides: {
        // As vma-lock-jann-uaf: a debug delay between up_read()'s count release and its
        // rwsem_wake() (taken only when a writer waits), and late wake-ups spread over it.
        '__up_read:released': { probability: 0.9, yieldShare: 1, maxYieldUs: 2000 },
        'exit_mmap:late_wake': { probability: 1, yieldShare: 1, maxYieldUs: 500 },
      },
    },
    timeScale: 50,
  };
}

export const scenario = defineBuiltinScenario({
  id: 'vma-lock-exit-mmap',
  title: "exit_mmap's direct VMA free: safe while every per-VMA reader holds mm_users",
  refs: [
    'LKML 2023-01 "[PATCH 1/1] mm: freeing VMAs without RCU in exit_mmap" (Suren, Michal Hocko, Matthew Wilcox)',
    'mm/mmap.c exit_mmap(), remove_vma(vma, true) (v6.4)',
    'mm/memory.c lock_vma_under_rcu() (v6.4), mm/mmap_lock.c (v6.15)',
  ],
  description:
    'CPU0 pins the mm (mmget_not_zero), locks a VMA with lock_vma_under_rcu(), reads it, unlocks and ' +
    "mmput()s. CPU1 is the owner's exit: its mmput() drops its reference. The last mmput() runs " +
    'exit_mmap(), which frees VMAs without RCU from v6.4 on: safe, since the reader is done with the ' +
    'VMA before it lets go of the mm. Expected clean in every era (the positive control of seed 002; ' +
    'vma-lock-exit-mmap-past-mmput breaks the rule).',
  variants: [
    { name: 'v6.4', era: 'v6.4', expected: 'clean', note: 'remove_vma(vma, true): no RCU' },
    { name: 'v6.15', era: 'v6.15', expected: 'clean', note: 'the SLAB_TYPESAFE_BY_RCU cache' },
  ],
  expectFailIn: [],
  // How a reader outliving the mm would show (vma-lock-exit-mmap-past-mmput).
  symptoms: {
    expected: ['KASAN: slab-use-after-free', 'per-VMA reader of an mm without users'],
  },
  ...exitMmapBody(false),
});
