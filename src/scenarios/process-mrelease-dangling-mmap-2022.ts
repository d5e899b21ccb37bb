// syzbot, Feb 2022, "KASAN: use-after-free Read in __oom_reap_task_mm" (kernel-mm.md §6 E1). In
// v5.17-rc1 exit_mmap() holds mmap_lock for writing over the whole teardown (64591e8605d6) and
// process_mrelease() went back to pinning mm_count only, re-testing MMF_OOM_SKIP under the read
// lock (ba535c1caf3e). But a process lmkd killed is no OOM victim: its exit_mmap() never sets
// MMF_OOM_SKIP, and it leaves mm->mmap pointing at the first VMA it freed. A process_mrelease()
// that passed task_will_free_mem() before the exit, and takes the read lock after it, walks the
// freed VMAs. Fixed by f798a1d4f94d (mm->mmap = NULL before mmap_write_unlock, v5.17).
//
// The same program hits D2 in v5.15-rc1 (884a7e5964e0: mmgrab only, and exit_mmap of the v4.17
// form takes no lock for a non-victim, so it frees under a reap that is already walking, or leaves
// the same dangling list for one that comes after). Before v5.15-rc1 there is no syscall 448
// (-ENOSYS), and from v5.15 every form is safe: mmget_not_zero() (v5.15), mm->mmap = NULL (v5.17),
// the VMA tree destroyed and MMF_OOM_SKIP for everyone (v6.1).
//
// Measured on the 2-core host (shared with 4 other workers), Dec 2026:
//   v5.17-rc1 free: 633/1000 runs hit (the first run already); PCT (depth 2): 11/1000 (first at
//     run 2); DFS --preemptions 2: the whole space, 1825 schedules, 255 failing.
//   v5.17 free: 0/2000; PCT: 0/10000 (14 s); DFS --preemptions 2: the whole space (1825), clean.
//   v5.15-rc1 (D2) in `--eras all`: 45/71.
import { cpuCtx, point } from '../cpu/context.js';
import { ENOSYS, ESRCH } from '../kernel/errno.js';
import { do_exit } from '../kernel/exit.js';
import { mm_alloc, spawnTask } from '../kernel/fork.js';
import { get_task_struct, put_task_struct } from '../kernel/sched.js';
import { process_mrelease } from '../mm/era_ops.js';
import { do_send_sig_info_SIGKILL, oom_init } from '../mm/oom_kill.js';
import { mem } from '../shm/arena.js';
import { defineStatics } from '../shm/statics.js';
import { populateAnon } from './populate.js';
import { defineBuiltinScenario } from './scenario.js';
import { EVERY_PAGE_FREED } from './teardown_checks.js';

const SIGKILL = 9;
const PAGES_PER_VMA = 4;
/** Two anonymous mappings, each in its own page table. */
const VMAS = [0x08000000, 0x40000000];

const ST = defineStatics('process_mrelease_dangling_mmap', ['ret', 'done']);
const at = (f: 'ret' | 'done'): number => ST.base() + ST.layout[f];

export const scenario = defineBuiltinScenario({
  id: 'process-mrelease-dangling-mmap-2022',
  title: 'process_mrelease after exit_mmap: mm->mmap left pointing at freed VMAs (v5.17-rc1)',
  refs: [
    'syzbot 2ccf63a4bd07cf39cab0, Feb 2022, "KASAN: use-after-free Read in __oom_reap_task_mm" (5.17.0-rc3)',
    'lore 20220215201922.1908156-1-surenb@google.com (the fix), review YgytzntIfx6Toom2@dhcp22.suse.cz',
    '64591e8605d6 mm: protect free_pgtables with mmap_lock write lock in exit_mmap (v5.17-rc1)',
    'ba535c1caf3e mm/oom_kill: allow process_mrelease to run under mmap_lock protection (v5.17-rc1)',
    'f798a1d4f94d mm: fix use-after-free bug when mm->mmap is reused after being freed (v5.17)',
    '884a7e5964e0 mm: introduce process_mrelease system call (v5.15-rc1; D2 with the same program)',
    'mm/mmap.c exit_mmap(), mm/oom_kill.c process_mrelease(), __oom_reap_task_mm()',
  ],
  description:
    'CPU0 is a process lmkd has just sent SIGKILL, waking up to exit: do_exit() -> exit_mm() -> the ' +
    'last mmput() -> exit_mmap(). CPU1 is lmkd calling process_mrelease(pidfd): find_lock_task_mm() ' +
    'still finds the mm, task_will_free_mem() is true, MMF_OOM_SKIP is clear (the process is no OOM ' +
    'victim), task_unlock(); then the whole exit_mmap() runs under mmap_write_lock, freeing every VMA ' +
    'but leaving mm->mmap at the first; then lmkd takes mmap_read_lock, MMF_OOM_SKIP is still clear, ' +
    'and __oom_reap_task_mm() reads mm->mmap->vm_flags: use-after-free of a vm_area_struct freed by ' +
    "remove_vma(). f798a1d4f94d sets mm->mmap = NULL before exit_mmap's write unlock (v5.17); v6.1 " +
    "destroys the tree and sets MMF_OOM_SKIP for every mm. v5.15-rc1's syscall fails with the same " +
    'program (D2: only mm_count is pinned, and the v4.17 exit_mmap takes no lock for a non-victim).',
  variants: [
    {
      name: 'v5.17-rc1',
      era: 'v5.17-rc1',
      expected: 'reproduces',
      note: 'exit_mmap under the write lock, mm->mmap left dangling',
    },
    { name: 'v5.17', era: 'v5.17', expected: 'clean', note: 'f798a1d4f94d: mm->mmap = NULL' },
  ],
  expectFailIn: ['v5.15-rc1', 'v5.17-rc1'],
  symptoms: {
    // syzbot's line reads "in can_madv_lru_vma" (v5.4's name of the same test); the model keeps
    // v4.14's name can_madv_dontneed_vma for the whole v4.14-v5.17 helper.
    expected: ['KASAN: slab-use-after-free in can_madv_dontneed_vma'],
    // D2 (v5.15-rc1): the frees land under a reap already walking the VMAs or page tables. A PMD
    // page freed and handed out again under the walk can read as a huge PMD that the step does
    // not cover (once in npm start's 71 free runs, 2026-12-07): zap_pmd_range()'s split, not
    // modelled, dies as the kernel's __split_huge_pmd() of garbage would.
    acceptable: [
      'KASAN: slab-use-after-free in',
      'KASAN: use-after-free in',
      'Bad page map in process',
      'kernel BUG at mm/huge_memory.c',
    ],
  },
  globals: ['victim', 'lmkd', 'mm'],
  cpus: [
    {
      name: 'killed process exit',
      task: 'victim',
      run: () => {
        // Woken by SIGKILL: on its way back to user mode the signal is delivered, do_exit().
        point('mrelease_e1:sigkill_delivery');
        do_exit(SIGKILL);
      },
    },
    {
      name: 'lmkd: process_mrelease',
      task: 'lmkd',
      run: (g) => {
        Atomics.store(mem.i32, at('ret'), process_mrelease(g.victim!, 0));
        Atomics.store(mem.i32, at('done'), 1);
        put_task_struct(g.victim!); // close(pidfd): the task reference pidfd_get_task() took
      },
    },
  ],
  setupOnce: true,
  setup(g) {
    Atomics.store(mem.i32, at('ret'), 0);
    Atomics.store(mem.i32, at('done'), 0);
    oom_init(0); // no oom_reaper thread: lmkd does the reaping
    const mm = mm_alloc();
    const victim = spawnTask('victim', { mm });
    const lmkd = spawnTask('lmkd');
    cpuCtx.current = victim;
    populateAnon(mm, VMAS, PAGES_PER_VMA);
    cpuCtx.current = 0;
    // lmkd: pidfd_open(pid), kill(pid, SIGKILL), then process_mrelease(pidfd, 0).
    get_task_struct(victim);
    do_send_sig_info_SIGKILL(victim);
    Object.assign(g, { victim, lmkd, mm });
  },
  checks: [
    {
      name: 'process_mrelease returned 0, -ESRCH (no mm left) or -ENOSYS (before v5.15)',
      check: () => {
        const ret = Atomics.load(mem.i32, at('ret'));
        if (!Atomics.load(mem.i32, at('done'))) return 'process_mrelease did not return';
        return [0, -ESRCH, -ENOSYS].includes(ret) ? null : `process_mrelease returned ${ret}`;
      },
    },
    EVERY_PAGE_FREED,
  ],
  jitter: {
    windows: ['mrelease_e1:sigkill_delivery', 'process_mrelease:unlocked', 'oom_reap:vma', 'zap_pte'],
    probability: 0.3,
    maxSpin: 300,
    yieldShare: 0.2,
    maxYieldUs: 40,
    overrides: {
      // The killed task takes a moment to be scheduled and reach do_exit(): lmkd, which called
      // process_mrelease() right after kill(), usually finds its mm still there.
      'mrelease_e1:sigkill_delivery': { probability: 0.9, yieldShare: 1, maxYieldUs: 60 },
      // lmkd is preempted between task_unlock() and mmap_read_lock_killable(): the whole exit fits.
      'process_mrelease:unlocked': { probability: 0.8, yieldShare: 1, maxYieldUs: 400 },
    },
  },
});
