// David Rientjes, LKML, 5 Dec 2017, "Multiple oom_reaper BUGs: unmap_page_range racing with
// exit_mmap". In v4.14 the reaper holds only mm_count and mmap_sem for reading; exit_mmap waits
// for it (down_write; up_write) only when `current` is the OOM victim. Here the last mm_users
// reference belongs to a /proc reader, so exit_mmap runs in the reader's context, skips the
// barrier, and frees page tables and VMAs under the reaper's walk.
import { cpuCtx } from '../cpu/context.js';
import { do_exit } from '../kernel/exit.js';
import { mm_alloc, mmget_not_zero, mmput, spawnTask } from '../kernel/fork.js';
import { __access_remote_vm } from '../mm/gup.js';
import { oom_init, oom_kill_process, oom_reaper } from '../mm/oom_kill.js';
import { populateAnon } from './populate.js';
import { defineBuiltinScenario } from './scenario.js';
import { EVERY_PAGE_FREED, RSS_ZERO_AT_MMDROP } from './teardown_checks.js';

const SIGKILL = 9;
const PAGES_PER_VMA = 16;
/** Anonymous mappings in different PMDs (and two PGD slots), so each has its own PTE page. */
const VMAS = [0x08000000, 0x08400000, 0x40000000, 0xbfc00000];
const CMDLINE = 0xbfc0f000;

export const scenario = defineBuiltinScenario({
  id: 'oom-reaper-vs-exit-mmap-2017',
  title: 'oom_reaper vs exit_mmap: the last mmput() from a non-victim skips the barrier',
  refs: [
    'LKML 2017-12-05 David Rientjes, "Multiple oom_reaper BUGs: unmap_page_range racing with exit_mmap"',
    '212925802454 mm: oom: let oom_reap_task and exit_mmap run concurrently (v4.14)',
    '4837fe37adff mm, oom_reaper: fix memory corruption (v4.15, 4.14.y)',
    'mm/mmap.c exit_mmap(), mm/oom_kill.c __oom_reap_task_mm(), kernel/fork.c mmput()',
  ],
  description:
    "CPU0 is the oom_reaper walking the victim's VMAs under mmap_sem (read). CPU1 is the victim " +
    'exiting: its mmput() is not the last. CPU2 is a /proc/<pid>/cmdline reader that pinned the mm ' +
    'with mmget_not_zero(); its mmput() is the last, so exit_mmap() runs as the reader. In v4.14 ' +
    'tsk_is_oom_victim(current) is false there and free_pgtables()/remove_vma() run under the ' +
    "reaper's feet; v4.15 keys the barrier on the mm (MMF_OOM_VICTIM).",
  variants: [
    { name: 'v4.14', era: 'v4.14', expected: 'reproduces' },
    { name: 'v4.15', era: 'v4.15', expected: 'clean' },
  ],
  // The window opened with 212925802454 (v4.14) and closed with 4837fe37adff (v4.15): every other
  // era is expected clean (`mmrace repro oom-reaper-vs-exit-mmap-2017 --eras all`).
  expectFailIn: ['v4.14'],
  // Rientjes' classes: the reaper reads a freed page-table page (a page use-after-free: in
  // zap_pte_range, pmd_none_or_clear_bad...) or a freed VMA (a slab use-after-free: vma_next,
  // can_madv_dontneed_vma, reapable, unmap_page_range, print_bad_pte...), or maps garbage ("Bad
  // page map"). Which function reads first depends on the interleaving: in 10,000 free runs a
  // new one showed up every few thousand runs, so the classes are listed, not the functions.
  symptoms: {
    expected: [
      'KASAN: use-after-free in',
      'KASAN: slab-use-after-free in',
      'Bad page map in process oom_reaper',
    ],
    acceptable: ['Bad rss-counter state', "final check 'every page freed'", 'pgtables_bytes'],
  },
  globals: ['mm', 'victim', 'reaper', 'reader'],
  cpus: [
    { name: 'oom_reaper', task: 'reaper', kthread: true, run: () => oom_reaper() },
    { name: 'victim exit', task: 'victim', run: () => do_exit(SIGKILL) },
    {
      name: '/proc reader',
      task: 'reader',
      run: (g) => {
        __access_remote_vm(g.mm!, CMDLINE, 256);
        mmput(g.mm!); // the last mm_users reference: exit_mmap() runs here
      },
    },
  ],
  setupOnce: true,
  setup(g) {
    const reaper = spawnTask('oom_reaper', { kthread: true });
    oom_init(reaper);
    const mm = mm_alloc();
    const victim = spawnTask('victim', { mm });
    const reader = spawnTask('cat');
    cpuCtx.current = victim;
    populateAnon(mm, VMAS, PAGES_PER_VMA);
    // The reader opened /proc/<victim>/cmdline: get_task_mm() pinned mm_users.
    cpuCtx.current = reader;
    mmget_not_zero(mm);
    // Memory ran out: the OOM killer picks the victim and queues it for the reaper.
    cpuCtx.current = 0;
    oom_kill_process(victim);
    Object.assign(g, { mm, victim, reaper, reader });
  },
  checks: [
    EVERY_PAGE_FREED,
    RSS_ZERO_AT_MMDROP,
    {
      name: 'no leaked page tables',
      check: ({ dmesg }) => dmesg.find((l) => l.includes('pgtables_bytes')) ?? null,
    },
  ],
  jitter: {
    windows: [
      '__oom_reap_task_mm',
      'oom_reap:vma',
      'zap_pte',
      'access_remote_vm:copy',
      'exit_mmap:free_pgtables',
    ],
    probability: 0.3,
    maxSpin: 400,
    yieldShare: 0.2,
    maxYieldUs: 50,
    overrides: {
      // copy_to_user() of the /proc read takes a while: the victim usually drops its mm first.
      'access_remote_vm:copy': { probability: 0.9, yieldShare: 1, maxYieldUs: 100 },
      // The reaper can be preempted between VMAs (cond_resched in the zap).
      'oom_reap:vma': { probability: 0.7, yieldShare: 1, maxYieldUs: 300 },
    },
  },
  timeScale: 50,
});
