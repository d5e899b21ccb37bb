// A soak of the per-VMA lock fault path (issue 11), per generation: 3 CPUs fault on anonymous
// mappings (the first fault of a VMA takes the mmap_lock path and gives it its anon_vma; later ones
// take the era's per-VMA lock) while a fourth CPU mmap()s, munmap()s and mprotect()s in the same
// ranges (splits and merges: the writers' vma_start_write()/vma_mark_locked() and detach). Every
// check is the kernel's own (KASAN, VM_BUG_ON_VMA, WARN, lockdep-free hung/oops detectors), so any
// report is either a bug of the generation or of the model. The VMA_LOCK_* counters of every run are
// summed for scripts/vma-lock-soak.mjs (takeVmaLockSoakTotals()).
import { cpuCtx } from '../cpu/context.js';
import { mm_alloc, spawnTask } from '../kernel/fork.js';
import { rcu_gp_kthread } from '../kernel/rcu/gp_kthread.js';
import { __do_page_fault } from '../mm/fault.js';
import { FAULT_FLAG_WRITE } from '../mm/memory.js';
import { VM_ACCOUNT, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE } from '../mm/mm_types.js';
import { do_munmap, mmap_anon_fixed, PROT_READ, PROT_WRITE } from '../mm/mmap.js';
import { mmap_write_lock, mmap_write_unlock } from '../mm/mmap_lock.js';
import { mprotect } from '../mm/mprotect.js';
import { vmstat_vma_lock, vmstatVmaLockReset } from '../mm/vma_lock.js';
import { defineBuiltinScenario } from './scenario.js';

const P = 4096;
const RW = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT;
const REGIONS = [0x08000000, 0x08100000, 0x08200000];
const PAGES = 8;
const FAULTS = 48;
const CHURN = 6;

export interface VmaLockSoakTotals {
  runs: number;
  VMA_LOCK_SUCCESS: number;
  VMA_LOCK_ABORT: number;
  VMA_LOCK_RETRY: number;
  VMA_LOCK_MISS: number;
}
const zero = (): VmaLockSoakTotals => ({
  runs: 0,
  VMA_LOCK_SUCCESS: 0,
  VMA_LOCK_ABORT: 0,
  VMA_LOCK_RETRY: 0,
  VMA_LOCK_MISS: 0,
});
let totals = zero();
/** The counters summed over the runs so far, and a fresh sum from here on. */
export function takeVmaLockSoakTotals(): VmaLockSoakTotals {
  const t = totals;
  totals = zero();
  return t;
}

function faulter(mm: number, cpu: number): void {
  for (let i = 0; i < FAULTS; i++) {
    const region = REGIONS[(i + cpu) % REGIONS.length]!;
    __do_page_fault(mm, region + ((i * 3 + cpu) % PAGES) * P, FAULT_FLAG_WRITE); // SIGSEGV when unmapped: fine
  }
}

function churn(mm: number): void {
  for (let i = 0; i < CHURN; i++) {
    const r = REGIONS[i % REGIONS.length]!;
    mprotect(mm, r + 2 * P, 2 * P, PROT_READ); // split into three
    mprotect(mm, r + 2 * P, 2 * P, PROT_READ | PROT_WRITE); // merge back
    mmap_write_lock(mm);
    do_munmap(mm, r + 4 * P, 2 * P); // a hole under the faulters
    mmap_write_unlock(mm);
    mmap_write_lock(mm);
    mmap_anon_fixed(mm, r + 4 * P, 2 * P, RW); // and a new VMA in it
    mmap_write_unlock(mm);
  }
}

export const scenario = defineBuiltinScenario({
  id: 'vma-lock-soak',
  title: 'per-VMA lock faults on 3 CPUs against mmap/munmap/mprotect, per generation',
  refs: ['mm/memory.c lock_vma_under_rcu()', 'arch/x86/mm/fault.c do_user_addr_fault()'],
  description:
    'CPUs 0-2 fault on three anonymous regions (per-VMA lock first, mmap_lock fallback); CPU3 splits ' +
    'and merges them with mprotect() and punches and refills holes with munmap()/mmap(); CPU4 is ' +
    'rcu_sched (call_rcu() VMA frees). Expected clean in every generation but the RFC as posted, ' +
    'whose reader does not re-check the bounds of the VMA it locked (vma-lock-rfc-bounds).',
  variants: [
    { name: 'v6.1', era: 'v6.1', expected: 'clean', note: 'no per-VMA locks: the mmap_lock path' },
    {
      name: 'rfc-2022-09',
      era: 'rfc-2022-09',
      expected: 'reproduces',
      note: 'no bounds re-check once locked (vma-lock-rfc-bounds)',
    },
    { name: 'v6.4', era: 'v6.4', expected: 'clean' },
    { name: 'v6.6', era: 'v6.6', expected: 'clean', note: "v6.4's locks with the 6.4.y/6.5 fixes" },
    { name: 'v6.15', era: 'v6.15', expected: 'clean' },
  ],
  globals: ['mm', 'f0', 'f1', 'f2', 'ch', 'rcu'],
  cpus: [
    { name: 'fault 0', task: 'f0', run: (g) => faulter(g.mm!, 0) },
    { name: 'fault 1', task: 'f1', run: (g) => faulter(g.mm!, 1) },
    { name: 'fault 2', task: 'f2', run: (g) => faulter(g.mm!, 2) },
    { name: 'mmap/munmap/mprotect', task: 'ch', run: (g) => churn(g.mm!) },
    { name: 'rcu_sched', task: 'rcu', kthread: true, run: () => rcu_gp_kthread() },
  ],
  setupOnce: true,
  setup(g) {
    vmstatVmaLockReset();
    const mm = mm_alloc();
    const t = ['f0', 'f1', 'f2', 'ch'].map((n) => spawnTask(n, { mm }));
    const rcu = spawnTask('rcu_sched', { kthread: true });
    cpuCtx.current = t[3]!;
    mmap_write_lock(mm);
    for (const r of REGIONS) mmap_anon_fixed(mm, r, PAGES * P, RW);
    mmap_write_unlock(mm);
    cpuCtx.current = 0;
    Object.assign(g, { mm, f0: t[0], f1: t[1], f2: t[2], ch: t[3], rcu });
  },
  checks: [
    {
      name: 'VMA_LOCK_* counters (summed for the soak; never fails)',
      check: () => {
        const c = vmstat_vma_lock();
        totals.runs++;
        totals.VMA_LOCK_SUCCESS += c.VMA_LOCK_SUCCESS;
        totals.VMA_LOCK_ABORT += c.VMA_LOCK_ABORT;
        totals.VMA_LOCK_RETRY += c.VMA_LOCK_RETRY;
        totals.VMA_LOCK_MISS += c.VMA_LOCK_MISS;
        return null;
      },
    },
  ],
  jitter: {
    windows: [
      'do_user_addr_fault:vma_locked',
      'lock_vma_under_rcu:locked',
      'vma_start_read:trylock',
      'find_and_lock_anon_vma:trylock', // the RFC's lookup-to-trylock window (vma-lock-rfc-bounds)
    ],
    probability: 0.2,
    maxSpin: 200,
    yieldShare: 0.2,
    maxYieldUs: 20,
  },
});
