// Positive control for "mm: drop oom code from exit_mmap" (Suren Baghdasaryan, May 2022, seed 001;
// merged as bf3980c85212 with the maple tree in v6.1; kernel-mm.md §1 eras E' and F): exit_mmap()
// no longer treats OOM victims specially. It takes mmap_read_lock for arch_exit_mmap() and
// unmap_vmas(), so the oom_reaper and process_mrelease(2) may zap alongside it; drops it; sets
// MMF_OOM_SKIP for every mm; then takes mmap_write_lock for free_pgtables() and the VMA teardown,
// which waits for a reaper still inside its read-locked walk, and makes a later reaper's
// mmap_read_trylock() fail (a queued writer fails read-trylock) until the tree is destroyed. A
// reader that gets the lock afterwards finds MMF_OOM_SKIP and an empty tree. Michal Hocko's summary
// of the review: the reaper's only hazard is "to see page tables of the address space disappearing
// from under its feet. That is excluded by the exclusive lock and ... mm->mmap == NULL check if the
// exit_mmap wins".
//
// The review's other question (Liam Howlett): may arch_exit_mmap() run under the read lock? On x86
// it is ldt_arch_exit_mmap() -> free_ldt_pgtables() -> free_pgd_range() over the LDT remap area:
// page tables that no VMA covers. The reaper and process_mrelease walk VMAs only (for_each_vma ->
// unmap_page_range within vm_start..vm_end), so they can never reach those tables; Suren checked
// xen_hvm_exit_mmap() the same way. mmrace has no LDT: arch_exit_mmap() has nothing to free, and
// the run is clean for that reason, as in the kernel.
//
// The same program fails in v5.15-rc1 only (D2: process_mrelease with mmgrab() and no recheck).
//
// Measured on the 2-core host (shared with 4 other workers), Dec 2026:
//   v6.1 free: 0/1000, PCT (depth 2): 0/10000; rfc-2022-05 free: 0/1000, PCT: 0/10000. In traces of
//   single v6.1 runs, exit_mmap()'s mmap_write_lock() waited for the reaper's read lock in 3 of 6.
//   v5.15-rc1 (D2; a matrix row, not a variant) free: 359/1000 (first at run 1); PCT: 0/2000 (depth 3 and 4: 0/400): under PCT
//   the victim's and lmkd's polling for MMF_UNSTABLE spread the few decisive switches too thin.
import { point } from '../cpu/context.js';
import { test_bit } from '../kernel/bitops.js';
import { do_exit } from '../kernel/exit.js';
import { schedule_timeout_uninterruptible } from '../kernel/sched.js';
import { MM, MMF_OOM_SKIP, MMF_UNSTABLE } from '../mm/mm_types.js';
import { oom_reaper } from '../mm/oom_kill.js';
import { lmkdMrelease } from './lmkd_mrelease.js';
import { defineBuiltinScenario } from './scenario.js';
import { EVERY_PAGE_FREED } from './teardown_checks.js';

const SIGKILL = 9;
const PAGES_PER_VMA = 16;
const VMAS = [0x08000000, 0x08400000, 0x40000000, 0x40400000];
/**
 * How long the victim waits at most for the reaper to start: OOM_REAPER_DELAY, when the v5.18+
 * reaper's timer fires. In controlled mode the clock jumps from timer to timer, so the victim and
 * the reaper then wake at the same emulated time and the schedules interleave them (with 4000
 * jiffies the reaper's whole walk ran before the victim's next poll: a DFS space of 4 schedules).
 */
const MAX_WAIT_JIFFIES = 2000;

const LMKD = lmkdMrelease('exit_mmap_read_then_write_2022');

const flag = (mm: number, nr: number): boolean => test_bit(nr, mm + MM.flags);

/** Sleep until the reaper has started on `mm` (MMF_UNSTABLE) or the mm is hidden (MMF_OOM_SKIP). */
function waitForReaper(mm: number): void {
  for (let t = 0; t < MAX_WAIT_JIFFIES; t += 10) {
    if (flag(mm, MMF_UNSTABLE) || flag(mm, MMF_OOM_SKIP)) return;
    schedule_timeout_uninterruptible(10);
  }
}

export const scenario = defineBuiltinScenario({
  id: 'exit-mmap-read-then-write-lock-2022',
  title:
    'Positive control (v6.1): the oom_reaper inside its read lock while exit_mmap goes from the read to the write lock',
  refs: [
    'LKML 2022-05-16 Suren Baghdasaryan, "[PATCH v2 1/2] mm: drop oom code from exit_mmap" (lore 20220516075619.1277152-1-surenb@google.com), review by Liam Howlett, Andrew Morton, Michal Hocko',
    'bf3980c85212 mm: drop oom code from exit_mmap (v6.1)',
    'b3541d912a84 mm: delete unused MMF_OOM_VICTIM flag (v6.1)',
    'arch/x86/kernel/ldt.c ldt_arch_exit_mmap() -> free_ldt_pgtables(): tables outside every VMA',
    'mm/mmap.c exit_mmap(), mm/oom_kill.c oom_reap_task_mm(), process_mrelease()',
  ],
  description:
    'An OOM victim with four anonymous mappings. CPU0 is the oom_reaper (v6.1: after its 2 s ' +
    'OOM_REAPER_DELAY). CPU1 is the victim, held up on its way out until the reaper has started ' +
    '(MMF_UNSTABLE), then exiting: exit_mmap() takes mmap_read_lock beside the reaper, zaps (the two ' +
    'zaps meet under the PTE locks), drops it, sets MMF_OOM_SKIP and asks for mmap_write_lock, which ' +
    'waits for the reaper to leave its walk; meanwhile a reaper retry fails read-trylock (a writer ' +
    'is queued) and finds MMF_OOM_SKIP afterwards. CPU2 is lmkd, whose pressure monitor fires once ' +
    'the reaper is at work, calling process_mrelease() on the victim; it reaches the read lock before, between or after the two phases, and re-tests ' +
    'MMF_OOM_SKIP under it. Clean: no reader walks page tables or VMAs being freed. ' +
    'arch_exit_mmap() under the read lock (the review question) is clean because the tables it ' +
    'frees (x86 LDT remap) lie outside every VMA, and the reaper and process_mrelease walk only ' +
    'VMAs; mmrace has no LDT, so it frees nothing here.',
  variants: [
    { name: 'v6.1', era: 'v6.1', expected: 'clean', note: 'bf3980c85212 on the maple tree' },
    {
      name: 'rfc-2022-05',
      era: 'rfc-2022-05',
      expected: 'clean',
      note: 'the patch as posted (vm_next list)',
    },
  ],
  // A control: its variants are clean (`mmrace explain` says so). The era matrix also runs the
  // program on v5.15-rc1, where D2 makes it fail (`--eras v5.15-rc1`), graded by the symptoms.
  expectFailIn: ['v5.15-rc1'],
  symptoms: {
    expected: ['KASAN: slab-use-after-free in', 'KASAN: use-after-free in'],
    acceptable: ['Bad page map in process', 'Bad rss-counter state'],
  },
  globals: ['reaper', 'victim', 'lmkd', 'mm'],
  cpus: [
    { name: 'oom_reaper', task: 'reaper', kthread: true, run: () => oom_reaper() },
    {
      name: 'victim exit',
      task: 'victim',
      run: (g) => {
        // Held up (a D-state wait, a robust-futex cleanup) until the reaper started, or hid the mm.
        waitForReaper(g.mm!);
        point('read_then_write:exit');
        do_exit(SIGKILL);
      },
    },
    {
      name: 'lmkd: process_mrelease',
      task: 'lmkd',
      run: (g) => {
        // lmkd's pressure monitor fires late: the reaper is already at work.
        waitForReaper(g.mm!);
        point('read_then_write:mrelease');
        LMKD.mrelease(g.victim!);
      },
    },
  ],
  setupOnce: true,
  setup(g, variant) {
    LMKD.setup(g, variant, VMAS, PAGES_PER_VMA);
  },
  checks: [
    LMKD.check,
    EVERY_PAGE_FREED,
    {
      name: 'the reaper gave up on nothing it could still reap',
      check: ({ dmesg }) => dmesg.find((l) => l.includes('oom_reaper: unable to reap')) ?? null,
    },
  ],
  jitter: {
    windows: [
      'read_then_write:exit',
      'read_then_write:mrelease',
      'process_mrelease:unlocked',
      'oom_reap:vma',
      'zap_pte',
      'unmap_vmas:vma',
      'exit_mmap:oom_skip_set',
      'exit_mmap:free_pgtables',
      'exit_mmap:remove_vma',
    ],
    probability: 0.3,
    maxSpin: 300,
    yieldShare: 0.3,
    maxYieldUs: 40,
    overrides: {
      // The reaper is slow between VMAs (cond_resched()): still inside its walk when exit_mmap()
      // has unmapped everything and asks for the write lock.
      'oom_reap:vma': { probability: 0.6, yieldShare: 1, maxYieldUs: 120 },
      // The victim wakes up a little after lmkd: lmkd usually finds its mm still attached.
      'read_then_write:exit': { probability: 0.8, yieldShare: 1, maxYieldUs: 80 },
      'read_then_write:mrelease': { probability: 0.1, yieldShare: 1, maxYieldUs: 20 },
      'process_mrelease:unlocked': { probability: 0.9, yieldShare: 1, maxYieldUs: 1500 },
      'exit_mmap:oom_skip_set': { probability: 0.5, yieldShare: 1, maxYieldUs: 60 },
      zap_pte: { probability: 0.1, maxSpin: 200, yieldShare: 0 },
    },
  },
  // 1 emulated second is 1 ms: the v5.18+ reaper's 2 s delay costs 2 ms a run.
  timeScale: 1000,
});
