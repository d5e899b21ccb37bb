// CVE-2018-1000200, David Rientjes, April 2018: "[patch v3 for-4.17] mm, oom: fix concurrent
// munlock and oom reaper unmap" (27ae357fa82b, 4.17-rc5, stable 4.14+; kernel-mm.md §6 C1). From
// v4.14 to v4.16 exit_mmap() munlocks before anything keeps the OOM reaper out: munlock clears
// VM_LOCKED and then walks the VMA with follow_page_mask(); the reaper, holding mmap_sem for
// reading, now sees the VMA as reapable and zaps it, huge PMDs included; a walker that had passed
// follow_pmd_mask()'s tests takes the PTE lock of the cleared PMD. On powerpc (pmd_bad() of an
// empty PMD is false) that lock pointer is NULL: an oops in the exiting task. v4.17's exit_mmap()
// reaps a victim's mm itself, sets MMF_OOM_SKIP and waits out the reaper (down_write/up_write)
// before munlocking. The program runs every era on powerpc book3s64's walk (`config`, below); on
// x86 ('v4.15+PPC_BOOK3S_64=n') the same interleaving is harmless: x86's pmd_bad() rejects the
// empty PMD, munlock skips the page and the reaper frees the mlocked huge page.
import { cpuCtx } from '../cpu/context.js';
import { do_exit } from '../kernel/exit.js';
import { mm_alloc, spawnTask } from '../kernel/fork.js';
import { oom_init, oom_kill_process, oom_reaper } from '../mm/oom_kill.js';
import { populateLockedThp } from './populate.js';
import { defineBuiltinScenario } from './scenario.js';
import { EVERY_PAGE_FREED, RSS_ZERO_AT_MMDROP } from './teardown_checks.js';

const SIGKILL = 9;
/** The process's memory: one mlocked VMA of transparent huge pages, 2 MiB aligned. */
const LOCKED = 0x40000000;
const LOCKED_THPS = 4;

export const scenario = defineBuiltinScenario({
  id: 'munlock-vs-oom-reaper-2018',
  title: "exit_mmap's munlock vs the oom_reaper: a huge PMD zapped under follow_page_mask (CVE-2018-1000200)",
  refs: [
    'lore alpine.DEB.2.21.1804241526320.238665@chino.kir.corp.google.com, David Rientjes, "[patch v3 for-4.17] mm, oom: fix concurrent munlock and oom reaper unmap"',
    '27ae357fa82b mm, oom: fix concurrent munlock and oom reaper unmap, v3 (v4.17-rc5; stable 4.14+, 4.16)',
    'CVE-2018-1000200 (oss-security, 2018-04-24): "Bad memory access on oom kill of large mlocked process", Linux 4.14, 4.15, 4.16',
    'Fixes: 212925802454 mm: oom: let oom_reap_task and exit_mmap run concurrently (v4.14)',
    'mm/mmap.c exit_mmap(), mm/mlock.c munlock_vma_pages_range(), mm/gup.c follow_pmd_mask()/follow_page_pte(), mm/huge_memory.c zap_huge_pmd(), mm/oom_kill.c __oom_reap_task_mm()',
  ],
  description:
    'CPU0 is the oom_reaper; CPU1 is the OOM victim exiting, its mmput() the last, so exit_mmap() ' +
    "runs there. The victim's memory is a mlocked VMA of four transparent huge pages. From " +
    'v4.14 to v4.16 exit_mmap() first munlocks: munlock_vma_pages_range() clears VM_LOCKED (the flag ' +
    'is how munlock tells other lockers apart), then walks the VMA with follow_page_mask(). The ' +
    'reaper, holding mmap_sem for reading, skips only VMAs it sees VM_LOCKED: it now zaps this one, ' +
    'clearing each huge PMD under the PMD lock (zap_huge_pmd). follow_pmd_mask() reads the PMD ' +
    'afresh at each test: a clear between its pmd_present() and pmd_trans_huge() loads sends it to ' +
    'follow_page_pte() with an empty PMD, whose PTE lock it derives. The machine walks with powerpc ' +
    "book3s64's pmd_bad() and PTE-lock pointer (config PPC_BOOK3S_64=y), where LKML saw the oops: an " +
    'empty PMD is not "bad" there, and its lock pointer is NULL. v4.17 reaps the mm in exit_mmap() ' +
    'itself, sets MMF_OOM_SKIP and takes mmap_sem for writing once before munlocking: the reaper is ' +
    'done or will not start. v4.13 pins mm_users in the reaper (exit_mmap cannot start under it); ' +
    'v5.17 holds the write lock across exit_mmap; from v5.18 munlock is gone.',
  variants: [
    { name: 'v4.15', era: 'v4.15', expected: 'reproduces' },
    { name: 'v4.17', era: 'v4.17', expected: 'clean' },
  ],
  // 212925802454 (v4.14) let exit_mmap run under the reaper; 27ae357fa82b (v4.17) closed this hole.
  expectFailIn: ['v4.14', 'v4.15'],
  config: { PPC_BOOK3S_64: true },
  // The oops Rientjes reported ("this ends up deferencing a NULL ptl"). The exiting task dies in
  // it, so its mm is never torn down: its pages stay allocated.
  symptoms: {
    expected: ['kernel NULL pointer dereference'],
    acceptable: ["final check 'every page freed'"],
  },
  globals: ['mm', 'victim', 'reaper'],
  cpus: [
    { name: 'oom_reaper', task: 'reaper', kthread: true, run: () => oom_reaper() },
    { name: 'victim exit', task: 'victim', run: () => do_exit(SIGKILL) },
  ],
  setupOnce: true,
  setup(g) {
    const reaper = spawnTask('oom_reaper', { kthread: true });
    oom_init(reaper);
    const mm = mm_alloc();
    const victim = spawnTask('victim', { mm });
    cpuCtx.current = victim;
    populateLockedThp(mm, LOCKED, LOCKED_THPS);
    // Memory ran out: the OOM killer picks the victim and queues it for the reaper.
    cpuCtx.current = 0;
    oom_kill_process(victim);
    Object.assign(g, { mm, victim, reaper });
  },
  checks: [EVERY_PAGE_FREED, RSS_ZERO_AT_MMDROP],
  jitter: {
    windows: ['munlock:pmd', 'munlock_vma_pages_range', '__oom_reap_task_mm', 'oom_reap:vma', 'zap_pte'],
    probability: 0.3,
    maxSpin: 300,
    yieldShare: 0.2,
    maxYieldUs: 30,
    overrides: {
      // The munlock walker between its PMD loads: the window the reaper's zap_huge_pmd() hits.
      'munlock:pmd': { probability: 0.8, yieldShare: 1, maxYieldUs: 100 },
    },
  },
  // The victim's walk is do_exit > exit_mm > mmput > __mmput > exit_mmap > munlock_vma_pages_range
  // > follow_page_mask: seven levels.
  diagramDepth: 7,
  // 1 emulated second is 1 ms: the v5.18+ reaper's 2 s delay costs 2 ms a run.
  timeScale: 1000,
});
