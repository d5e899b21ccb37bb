// Positive control for Suren Baghdasaryan's Nov 2021 patch, merged for v5.17 (seed 000, lore
// 20211208212211.2860249-1-surenb@google.com; kernel-mm.md §1 era E): exit_mmap() takes
// mmap_write_lock over munlock, unmap_vmas(), free_pgtables() and the remove_vma() loop, and leaves
// mm->mmap = NULL; the oom_reaper and process_mrelease(2) (back to mmgrab() only, ba535c1caf3e) walk
// the VMAs under mmap_read_lock, process_mrelease re-testing MMF_OOM_SKIP under it. Every reader
// is then excluded from the whole teardown and finds either the full address space or MMF_OOM_SKIP
// and an empty list: clean. The write lock replaces the down_write(); up_write() barrier of v4.14-
// v5.16 and the mm_users pin of v5.15's process_mrelease (337546e83fc7), which made the syscall run
// __mmput() itself (the cost the patch removes), at "1.6% worst case" on exit (kernel-mm.md §7.2).
//
// The same program fails in v5.15-rc1 only (D2: 884a7e5964e0's process_mrelease pins mm_count and
// is no OOM victim, and tests MMF_OOM_SKIP only before the lock, so it walks VMAs and page tables
// that the unlocked part of the v4.17 exit_mmap() frees).
//
// Measured on the 2-core host (shared with 4 other workers), Dec 2026:
//   v5.17 free: 0/1000; PCT (depth 2): 0/10000. Every other era but v5.15-rc1 of `--eras all`: 0/71.
//   v5.15-rc1 (D2; a matrix row, not a variant) free: 487/1000 (first at run 12); PCT: 3/2000 (first at run 298): the window
//   needs lmkd past its MMF_OOM_SKIP test before the reaper and the self-reap set it, and its read
//   lock after the exit's barrier, which few priority orders give.
import { point } from '../cpu/context.js';
import { do_exit } from '../kernel/exit.js';
import { oom_reaper } from '../mm/oom_kill.js';
import { lmkdMrelease } from './lmkd_mrelease.js';
import { defineBuiltinScenario } from './scenario.js';
import { EVERY_PAGE_FREED } from './teardown_checks.js';

const SIGKILL = 9;
const PAGES_PER_VMA = 16;
/** Anonymous mappings in different PMDs and PGD slots, each with its own PTE page. */
const VMAS = [0x08000000, 0x08400000, 0x40000000];

const LMKD = lmkdMrelease('exit_mmap_write_lock_2021');

export const scenario = defineBuiltinScenario({
  id: 'exit-mmap-write-lock-2021',
  title:
    'Positive control (v5.17): exit_mmap under mmap_write_lock, oom_reaper and process_mrelease under the read lock',
  refs: [
    'LKML 2021-11-24 Suren Baghdasaryan, "[PATCH v2 1/2] mm: protect free_pgtables with mmap_lock write lock in exit_mmap"; v4 lore 20211208212211.2860249-1-surenb@google.com',
    'lore 20211022014658.263508-1-surenb@google.com (the process_mrelease race it closes for good)',
    '64591e8605d6 mm: protect free_pgtables with mmap_lock write lock in exit_mmap (v5.17)',
    'ba535c1caf3e mm/oom_kill: allow process_mrelease to run under mmap_lock protection (v5.17)',
    'f798a1d4f94d mm: fix use-after-free bug when mm->mmap is reused after being freed (v5.17)',
    'mm/mmap.c exit_mmap(), mm/oom_kill.c oom_reap_task_mm(), process_mrelease()',
  ],
  description:
    'An OOM victim with three anonymous mappings is killed: CPU0 is the oom_reaper (queued at ' +
    'once: no 2 s delay before v5.18), CPU1 the victim exiting (its last mmput() runs exit_mmap()), ' +
    'CPU2 lmkd calling process_mrelease() on it. v5.17: the victim self-reaps and sets MMF_OOM_SKIP, ' +
    'then exit_mmap() holds mmap_write_lock from munlock to the last remove_vma() and sets ' +
    "mm->mmap = NULL. The reaper's mmap_read_trylock() and lmkd's mmap_read_lock_killable() either " +
    'get in before it (and exit_mmap waits for them), or after it (MMF_OOM_SKIP, re-tested under ' +
    'the lock, and an empty list): no reader walks a VMA or page table being freed, every page is ' +
    'freed once. Clean from v4.14 (barrier) on, except v5.15-rc1, whose process_mrelease is not ' +
    'excluded by anything (D2).',
  variants: [
    { name: 'v5.17', era: 'v5.17', expected: 'clean', note: 'the write lock over the whole teardown' },
  ],
  // A control: its variant is clean (`mmrace explain` says so). The era matrix also runs the
  // program on v5.15-rc1, where D2 makes it fail (`mmrace repro exit-mmap-write-lock-2021 --eras
  // v5.15-rc1`), graded by the symptoms below.
  expectFailIn: ['v5.15-rc1'],
  symptoms: {
    // D2 as it shows in v5.15-rc1: the reap reads a VMA or page table that exit_mmap() freed.
    expected: ['KASAN: slab-use-after-free in', 'KASAN: use-after-free in'],
    acceptable: ['Bad page map in process', 'Bad rss-counter state'],
  },
  globals: ['reaper', 'victim', 'lmkd', 'mm'],
  cpus: [
    { name: 'oom_reaper', task: 'reaper', kthread: true, run: () => oom_reaper() },
    {
      name: 'victim exit',
      task: 'victim',
      run: () => {
        point('write_lock_2021:exit');
        do_exit(SIGKILL);
      },
    },
    {
      name: 'lmkd: process_mrelease',
      task: 'lmkd',
      run: (g) => {
        point('write_lock_2021:mrelease');
        LMKD.mrelease(g.victim!);
      },
    },
  ],
  setupOnce: true,
  setup(g, variant) {
    LMKD.setup(g, variant, VMAS, PAGES_PER_VMA);
  },
  checks: [LMKD.check, EVERY_PAGE_FREED],
  jitter: {
    windows: [
      'write_lock_2021:exit',
      'write_lock_2021:mrelease',
      'process_mrelease:unlocked',
      '__oom_reap_task_mm',
      'oom_reap:vma',
      'zap_pte',
      'exit_mmap:oom_skip_set',
      'exit_mmap:free_pgtables',
      'exit_mmap:remove_vma',
    ],
    probability: 0.3,
    maxSpin: 300,
    yieldShare: 0.3,
    maxYieldUs: 40,
    overrides: {
      // The victim wakes up to its SIGKILL a little after lmkd, which called process_mrelease()
      // right after kill(): lmkd usually finds the mm still attached.
      'write_lock_2021:exit': { probability: 0.9, yieldShare: 1, maxYieldUs: 80 },
      'write_lock_2021:mrelease': { probability: 0.1, yieldShare: 1, maxYieldUs: 20 },
      // The reaper kthread is woken, not yet running: it gets on a CPU a moment later.
      __oom_reap_task_mm: { probability: 0.8, yieldShare: 1, maxYieldUs: 300 },
      // lmkd preempted between task_unlock() and the read lock: the exit gets ahead of it.
      'process_mrelease:unlocked': { probability: 0.9, yieldShare: 1, maxYieldUs: 1500 },
      'oom_reap:vma': { probability: 0.5, yieldShare: 1, maxYieldUs: 60 },
      'exit_mmap:free_pgtables': { probability: 0.5, yieldShare: 1, maxYieldUs: 100 },
      'exit_mmap:remove_vma': { probability: 0.3, yieldShare: 1, maxYieldUs: 50 },
      zap_pte: { probability: 0.1, maxSpin: 200, yieldShare: 0 },
    },
  },
  // 1 emulated second is 1 ms: the v5.18+ reaper's 2 s delay costs 2 ms a run.
  timeScale: 1000,
});
