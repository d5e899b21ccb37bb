// Negative control (kernel-mm.md §6 N1, catalogue R-B1n): the oom_reaper's unmap_page_range() and
// the exiting victim's own zap (exit_mmap()'s unmap_vmas(), and from v4.17 its self-reap
// __oom_reap_task_mm(mm)) clearing the same PTEs at the same time. This is intended since v4.14
// ("like MADV_DONTNEED in parallel", Michal Hocko, lore 20171206083130.GC16386@dhcp22.suse.cz):
// zap_pte_range() takes the PTE page's lock, and each PTE is read and cleared under it with
// ptep_get_and_clear_full(), so whoever clears a PTE does its rmap and rss accounting and the other
// finds it none. Any report here (Bad page map, Bad rss-counter state, a page freed twice) would be
// a bug in the model's zap or PTL, not the kernel's: clean in every era.
//
// Who overlaps whom per era: v4.13 none (the reaper pins mm_users, so exit_mmap() starts only
// after its mmput_async()); v4.14-v4.16 the reaper against unmap_vmas() (the barrier comes after
// it); v4.17-v5.16 the reaper against the victim's self-reap; v5.17-v6.0 none (exit_mmap() under
// mmap_write_lock, the reaper's read-trylock fails and retries); v6.1+ (rfc-2022-05 too) the reaper
// against unmap_vmas() under both read locks, once its 2 s OOM_REAPER_DELAY is over.
//
// The two zaps do meet: in Chrome traces of single runs (--trace) the reaper's and the exit's
// zap_pte_range() slices overlap in v4.14 (3 of 3 seeds), v4.17 (3/3), v6.1 (3/3) and v6.15 (2/3).
// Measured on the 2-core host (shared with 4 other workers), Dec 2026: free mode 0/1000 and PCT
// 0/10000 for each of v4.14 (PCT 36 s), v4.17 (65 s) and v6.1; v6.1 DFS --preemptions 2: 0 in the
// first 20,000 schedules (not the whole space); `--eras all`: 0/71 in every era.
import { cpuCtx, point } from '../cpu/context.js';
import { test_bit } from '../kernel/bitops.js';
import { do_exit } from '../kernel/exit.js';
import { mm_alloc, spawnTask } from '../kernel/fork.js';
import { schedule_timeout_uninterruptible } from '../kernel/sched.js';
import { MM, MMF_OOM_SKIP, MMF_UNSTABLE } from '../mm/mm_types.js';
import { oom_init, oom_kill_process, oom_reaper } from '../mm/oom_kill.js';
import { populateAnon } from './populate.js';
import { defineBuiltinScenario } from './scenario.js';
import { EVERY_PAGE_FREED } from './teardown_checks.js';

const SIGKILL = 9;
const PAGES_PER_VMA = 32;
/** Three anonymous mappings, each in its own PTE page: both zaps walk the same three tables. */
const VMAS = [0x08000000, 0x08400000, 0x40000000];
/**
 * How long the victim waits at most for the reaper to start: OOM_REAPER_DELAY, when the v5.18+
 * reaper's timer fires. In controlled mode the clock jumps from timer to timer, so the victim and
 * the reaper then wake at the same emulated time and the schedules interleave them (with 4000
 * jiffies the reaper's whole walk ran before the victim's next poll: a DFS space of 4 schedules).
 */
const MAX_WAIT_JIFFIES = 2000;

const flag = (mm: number, nr: number): boolean => test_bit(nr, mm + MM.flags);

export const scenario = defineBuiltinScenario({
  id: 'oom-reaper-vs-unmap-vmas-same-ptes',
  title: 'Negative control: the oom_reaper and exit_mmap zap the same PTEs, serialised by the PTE lock',
  refs: [
    'LKML 2017-12-06 Michal Hocko in "Multiple oom_reaper BUGs" (lore 20171206083130.GC16386@dhcp22.suse.cz): concurrent zaps are fine',
    '212925802454 mm: oom: let oom_reap_task and exit_mmap run concurrently (v4.14)',
    '27ae357fa82b mm, oom: fix concurrent munlock and oom reaper unmap, v3 (v4.17: the self-reap)',
    'bf3980c85212 mm: drop oom code from exit_mmap (v6.1: unmap_vmas under mmap_read_lock)',
    'mm/memory.c zap_pte_range() (ptep_get_and_clear_full under the PTE lock), mm/mmap.c exit_mmap()',
  ],
  description:
    "CPU0 is the oom_reaper reaping an OOM victim's three anonymous mappings (96 pages) under " +
    'mmap_sem for reading. CPU1 is the victim itself, which reaches exit_mm() just as the reaper ' +
    'starts (it waits for MMF_UNSTABLE), does the last mmput() and runs exit_mmap(): its zap ' +
    '(unmap_vmas(), and the self-reap of v4.17-v5.16) walks the same PTE pages. zap_pte_range() ' +
    'takes each PTE page lock and clears each PTE with ptep_get_and_clear_full(): only the CPU that ' +
    'cleared a PTE removes its rmap and counts it, so no Bad page map, no Bad rss-counter state and ' +
    'every page freed once, in every era. (v4.13 and v5.17-v6.0 serialise the two whole walks ' +
    'instead: mm_users pin, mmap_write_lock.)',
  variants: [
    { name: 'v4.14', era: 'v4.14', expected: 'clean', note: 'reaper vs unmap_vmas(), no lock but the PTL' },
    { name: 'v4.17', era: 'v4.17', expected: 'clean', note: 'reaper vs the self-reap' },
    { name: 'v6.1', era: 'v6.1', expected: 'clean', note: 'reaper vs unmap_vmas(), both read-locked' },
  ],
  expectFailIn: [],
  globals: ['reaper', 'victim', 'mm'],
  cpus: [
    { name: 'oom_reaper', task: 'reaper', kthread: true, run: () => oom_reaper() },
    {
      name: 'victim exit',
      task: 'victim',
      run: (g) => {
        // Held up on the way to exit_mm() (a D-state wait, a robust-futex cleanup) until the reaper
        // has started on the mm, or hidden it.
        for (let t = 0; t < MAX_WAIT_JIFFIES; t += 10) {
          if (flag(g.mm!, MMF_UNSTABLE) || flag(g.mm!, MMF_OOM_SKIP)) break;
          schedule_timeout_uninterruptible(10);
        }
        point('same_ptes:exit');
        do_exit(SIGKILL);
      },
    },
  ],
  setupOnce: true,
  setup(g) {
    const reaper = spawnTask('oom_reaper', { kthread: true });
    oom_init(reaper);
    const mm = mm_alloc();
    const victim = spawnTask('victim', { mm });
    cpuCtx.current = victim;
    populateAnon(mm, VMAS, PAGES_PER_VMA);
    cpuCtx.current = 0;
    oom_kill_process(victim); // SIGKILL, mark_oom_victim(), the era's wake_oom_reaper()
    Object.assign(g, { reaper, victim, mm });
  },
  checks: [EVERY_PAGE_FREED],
  jitter: {
    windows: ['same_ptes:exit', 'oom_reap:vma', 'zap_pte', 'zap_pte_range:pmd', 'unmap_vmas:vma'],
    probability: 0.3,
    maxSpin: 200,
    yieldShare: 0.2,
    maxYieldUs: 20,
    overrides: {
      // A PTE at a time: the two zaps alternate inside one PTE page, each under its lock.
      zap_pte: { probability: 0.2, maxSpin: 100, yieldShare: 0.1, maxYieldUs: 5 },
    },
  },
  // 1 emulated second is 1 ms: the v5.18+ reaper's 2 s delay costs 2 ms a run.
  timeScale: 1000,
});
