// Jann Horn's case (LKML, Jan 2023, in the thread on freeing VMAs without RCU; kernel-mm.md §5.2,
// kernel-locking.md §1.14): an rw_semaphore is not safe to unlock-then-free without RCU. A page
// fault holds the per-VMA lock for reading; munmap() write-locks the VMA and queues on its rwsem.
// The reader's up_read() releases the count, and before its rwsem_wake() has taken the wait_lock
// the writer takes the rwsem (it was spinning, or a spurious wake-up let it retry), detaches the VMA
// and frees it with its vma_lock. up_read() then touches freed memory.
//  - v6.4-norcu (hazard era: the series before v2): vma_end_read() calls up_read() outside any RCU
//    read section and munmap frees the VMA and its lock at once: KASAN slab-use-after-free in the
//    rwsem's wake path.
//  - v6.4 as merged: vma_end_read() holds rcu_read_lock() across up_read() and vm_area_free() goes
//    through call_rcu(): the memory outlives the unlock. Clean.
//  - v6.15: no rwsem: the reader's last access is the vm_refcnt decrement (vma_refcount_put() reads
//    vm_mm first); the writer waits on mm->vma_writer_wait. Clean.
//  - rfc-2022-09: the RFC's vma_read_unlock() is a bare up_read(); its VMAs are freed through
//    call_rcu(), but the reader is in no RCU read section during up_read(), so a grace period can
//    end inside the unlock: KASAN slab-use-after-free in rwsem_wake(), freed by
//    vm_area_free_rcu_cb. This is the case Jann Horn raised against the series (17 Jan 2023),
//    which v2 fixed by wrapping up_read() in rcu_read_lock(). Measured: PCT 10/10,000 runs.
// CPUs: a thread faulting on the VMA, a thread munmap()ing it, a late wake_q wake-up of the
// munmap task (the writer must be awake in its slowpath to take the rwsem inside the reader's
// up_read(): kernel-locking.md §1.14), rcu_sched.
// Free mode widens the window as a kernel developer would, with a delay between up_read()'s count
// release and its rwsem_wake() (the atomic point '__up_read:released', a jitter window even at
// coarse granularity: context.ts atomicPoint(); the overrides below): v6.4-norcu and
// rfc-2022-09 hit in 600-700 of 1,000 free runs, v6.4 and v6.15 none (without the delay, 1-2 in
// 1,000). Controlled mode runs the same code and schedules as before.
import { cpuCtx, point } from '../cpu/context.js';
import { mm_alloc, spawnTask } from '../kernel/fork.js';
import { down_read, down_write, init_rwsem, RWSEM, up_read, up_write } from '../kernel/locking/rwsem.js';
import { rcu_gp_kthread } from '../kernel/rcu/gp_kthread.js';
import { __do_page_fault } from '../mm/fault.js';
import { FAULT_FLAG_WRITE, handle_mm_fault } from '../mm/memory.js';
import { VM_ACCOUNT, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE } from '../mm/mm_types.js';
import { find_vma, mmap_anon_fixed, vm_munmap } from '../mm/mmap.js';
import { mmap_read_lock, mmap_read_unlock, mmap_write_lock, mmap_write_unlock } from '../mm/mmap_lock.js';
import {
  FAULT_FLAG_VMA_LOCK,
  find_and_lock_anon_vma,
  lock_vma_under_rcu,
  perVmaLockGeneration,
  vma_end_read,
  vma_read_unlock,
} from '../mm/vma_lock.js';
import { defineStatics } from '../shm/statics.js';
import { lateWakeups } from './late_wake.js';
import { defineBuiltinScenario } from './scenario.js';

const P = 4096;
const A = 0x08000000;
const PAGES = 8;
const WAKES = 4;
// A gate the faulter opens once it holds the VMA lock: munmap sleeps on it (down_read) until then.
const ST = defineStatics('vma_lock_jann', [`gate[${RWSEM.SIZE}]`]);
const gate = (): number => ST.base() + ST.layout.gate;

/**
 * do_user_addr_fault()'s per-VMA step spelled out (arch/x86/mm/fault.c, v6.4): the VMA locked
 * under RCU, the fault handled under the VMA lock, the lock dropped. the gate tells munmap the
 * reader is in, so the only free that can meet the reader is the one after its unlock.
 */
function fault_under_vma_lock(mm: number, address: number): void {
  const gen = perVmaLockGeneration();
  if (gen === 'none') {
    // No per-VMA locks (the era matrix's other eras): the fault holds mmap_lock, which munmap()
    // waits for; nothing to show, the run must be clean.
    mmap_read_lock(mm);
    const vma = find_vma(mm, address);
    up_write(gate());
    if (vma) {
      point('jann:vma_locked');
      handle_mm_fault(vma, address, FAULT_FLAG_WRITE);
    }
    mmap_read_unlock(mm);
    return;
  }
  const rfc = gen === 'rfc-2022-09';
  const vma = rfc ? find_and_lock_anon_vma(mm, address) : lock_vma_under_rcu(mm, address);
  up_write(gate()); // munmap may go
  if (!vma) return; // the mmap_lock path: nothing to show here
  point('jann:vma_locked');
  handle_mm_fault(vma, address, FAULT_FLAG_WRITE | FAULT_FLAG_VMA_LOCK);
  if (rfc) vma_read_unlock(vma);
  else vma_end_read(vma);
}

const RW = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT;

export const scenario = defineBuiltinScenario({
  id: 'vma-lock-jann-uaf',
  title: "per-VMA lock: unlock-then-free without RCU (Jann Horn's case)",
  refs: [
    'LKML 2023-01 "[PATCH 41/41] mm: replace rw_semaphore with atomic_t in vma_lock" / "freeing VMAs without RCU", Jann Horn',
    'include/linux/mm.h vma_end_read() (v6.4): rcu_read_lock(); up_read(); rcu_read_unlock()',
    'kernel/locking/rwsem.c __up_read(), rwsem_wake()',
    'mm/mmap_lock.c vma_refcount_put() (v6.15)',
  ],
  description:
    'CPU0 faults on an anonymous VMA through the per-VMA lock, again and again. CPU1 munmap()s the ' +
    "VMA: vma_start_write() waits on the VMA's rwsem for the reader, then detaches and frees it. " +
    'In v6.4-norcu the free is immediate and up_read() runs outside RCU: the wake-up after the ' +
    'count is released touches the freed vma_lock. CPU2 is rcu_sched (call_rcu() frees).',
  variants: [
    // PCT (depth 2) needs its one change point inside __up_read()'s few steps between the count
    // release and rwsem_wake(): 8 to 14 runs in 10,000 (seed 1).
    { name: 'v6.4-norcu', era: 'v6.4-norcu', expected: 'reproduces', minPctRuns: 2000 },
    { name: 'v6.4', era: 'v6.4', expected: 'clean' },
    { name: 'v6.6', era: 'v6.6', expected: 'clean' },
    { name: 'v6.15', era: 'v6.15', expected: 'clean' },
    {
      name: 'rfc-2022-09',
      era: 'rfc-2022-09',
      expected: 'reproduces',
      note: 'up_read() outside RCU; the call_rcu() free ends inside it',
      minPctRuns: 2000,
    },
  ],
  expectFailIn: ['v6.4-norcu', 'rfc-2022-09'],
  // Jann Horn's case: the reader's up_read() wakes the waiters (rwsem_wake(): raw_spin_lock_irqsave
  // of sem->wait_lock, then its unlock) after the count release, in freed memory.
  // Rarely (1 free run in about 500) the free lands while rwsem_wake() already spins for the
  // wait_lock: it then spins on the freed, poisoned word, which KASAN checked before the free, and
  // the watchdog reports the soft lockup first.
  symptoms: {
    expected: ['KASAN: slab-use-after-free in spin_lock', 'KASAN: slab-use-after-free in spin_unlock'],
    acceptable: ['KASAN: slab-use-after-free in rwsem_', 'BUG: soft lockup'],
  },
  globals: ['mm', 'faulter', 'unmapper', 'waker', 'rcu'],
  cpus: [
    {
      name: 'fault',
      task: 'faulter',
      run: (g) => fault_under_vma_lock(g.mm!, A + P),
    },
    {
      name: 'munmap',
      task: 'unmapper',
      run: (g) => {
        down_read(gate());
        up_read(gate());
        vm_munmap(g.mm!, A, PAGES * P);
      },
    },
    {
      // A late wake_q wake-up of the munmap task (wake_up_q() of an earlier, unrelated lock it
      // queued on): the kernel's ordinary source of spurious wake-ups, after which the writer
      // retries rwsem_try_write_lock() without waiting for the reader's rwsem_wake().
      name: 'late wake_q',
      task: 'waker',
      run: (g) => lateWakeups(gate(), 'jann:late_wake', WAKES, g.unmapper!),
    },
    { name: 'rcu_sched', task: 'rcu', kthread: true, run: () => rcu_gp_kthread() },
  ],
  setupOnce: true,
  setup(g) {
    init_rwsem(gate(), 'jann_gate');
    const mm = mm_alloc();
    const faulter = spawnTask('faulter', { mm });
    const unmapper = spawnTask('unmapper', { mm });
    const waker = spawnTask('waker');
    const rcu = spawnTask('rcu_sched', { kthread: true });
    cpuCtx.current = faulter;
    mmap_write_lock(mm);
    mmap_anon_fixed(mm, A, PAGES * P, RW);
    mmap_write_unlock(mm);
    // The first fault (mmap_lock path) gives the VMA its anon_vma: v6.4.0 and the RFC take the
    // per-VMA path only for anonymous VMAs that have one.
    __do_page_fault(mm, A, FAULT_FLAG_WRITE);
    down_write(gate()); // the faulter's, released once it holds the VMA lock
    cpuCtx.current = 0;
    Object.assign(g, { mm, faulter, unmapper, waker, rcu });
  },
  checks: [],
  // Free mode. The use-after-free needs, in one run: munmap queued on the VMA lock before the
  // reader's up_read() (else up_read() takes no wake-up path), a wake-up of munmap after the
  // count is released, and munmap through the free before the reader's rwsem_wake(). Without the
  // delays below, 1-2 hits in 1,000 runs; with them 600-700 in v6.4-norcu and rfc-2022-09, none
  // in v6.4 and v6.15 (test/vma_lock_jann_free.test.ts has the bounds).
  jitter: {
    windows: ['__up_read:released', 'jann:vma_locked', 'rwsem_down_write_slowpath', 'jann:late_wake'],
    probability: 0.5,
    maxSpin: 400,
    yieldShare: 0.3,
    maxYieldUs: 50,
    overrides: {
      // The debug delay in the window itself (taken only when a writer waits: __up_read() reaches
      // the point only on its wake-up path), up to 2 ms: munmap finishes, or the call_rcu() free's
      // grace period ends, inside it.
      '__up_read:released': { probability: 0.9, yieldShare: 1, maxYieldUs: 2000 },
      // The fault takes longer than munmap's way to vma_start_write(): munmap queues first.
      'jann:vma_locked': { probability: 0.9, yieldShare: 1, maxYieldUs: 300 },
      // The late wake-ups spread over a few hundred microseconds: one lands in the window.
      'jann:late_wake': { probability: 1, yieldShare: 1, maxYieldUs: 500 },
    },
  },
  timeScale: 50,
});
