// Andrea Arcangeli, Aug 2017, the changelog of 212925802454 (kernel-mm.md §6 A1, a liveness bug of
// v4.6-v4.13): "exit_aio() may block and exit_mmap() may never start, if the oom_reap_task cannot
// start running on a mm with mm_users == 0". The v4.13 reaper pins the victim's address space with
// mmget_not_zero() so that exit_mmap() cannot start under it. When the victim's last mmput() is
// already in __mmput(), stuck in exit_aio() waiting for AIO completions, mm_users is 0: the pin
// fails, the reaper skips the mm as if done, and oom_reap_task() sets MMF_OOM_SKIP. The next
// allocation failure then selects a second victim although the first one's memory was never freed.
//
// The kernel prints nothing wrong: the second "Killed process" line is all there is. The verdict is
// a liveness one; mmrace has no verdict kind for it, so the kill is caught by the emulator's
// check in oom_kill_process() (kernel-mm.md §8 item 8, check_spurious_oom_kill() in
// src/mm/oom_kill.ts): "BUG: spurious OOM kill: ... still holds anon-rss:...kB under MMF_OOM_SKIP",
// a detector line like any other, which the symptom below names.
//
// Fixed by 212925802454 (v4.14): the reaper needs no mm_users pin (the mm_struct is pinned by
// signal->oom_mm), reaps an mm whose users are gone, and MMF_OOM_SKIP comes only once the memory is
// reaped or exit_mmap() has unmapped it.
//
// Measured on the 2-core host (shared with 4 other workers), Dec 2026:
//   v4.13 free: 608/1000 (first at run 4); PCT (depth 2): 19/1000 (from the first run).
//   v4.14 free: 0/1000; PCT: 0/10000. Every era after v4.13 in `--eras all`: 0/71.
import { cpuCtx, point } from '../cpu/context.js';
import { do_exit } from '../kernel/exit.js';
import { mm_alloc, spawnTask } from '../kernel/fork.js';
import { down_write, up_write } from '../kernel/locking/rwsem.js';
import { schedule_timeout_uninterruptible } from '../kernel/sched.js';
import { __do_page_fault } from '../mm/fault.js';
import { FAULT_FLAG_WRITE } from '../mm/memory.js';
import { MM } from '../mm/mm_types.js';
import { mmap_anon_fixed } from '../mm/mmap.js';
import { oom_init, oom_reaper, out_of_memory, tsk_is_oom_victim } from '../mm/oom_kill.js';
import { nr_free_pages, nr_pages } from '../mm/page_alloc.js';
import { mem } from '../shm/arena.js';
import { defineStatics } from '../shm/statics.js';
import { VM_ANON_RW } from './populate.js';
import { defineBuiltinScenario } from './scenario.js';

const SIGKILL = 9;
const VICTIM_VMAS = [0x08000000, 0x40000000];
const VICTIM_PAGES = 16;
const BYSTANDER_PAGES = 4;
/** The allocator's retries: about 4 emulated seconds, past the v5.18+ reaper's 2 s delay. */
const RETRIES = 400;

const ST = defineStatics('oom_reaper_exit_aio', ['bystander_pages', 'free_before']);
const at = (f: 'bystander_pages' | 'free_before'): number => ST.base() + ST.layout[f];

/** A process with `pages` anonymous pages in each VMA at `addrs`, faulted in. */
function proc(comm: string, addrs: readonly number[], pages: number): number {
  const mm = mm_alloc();
  const task = spawnTask(comm, { mm });
  cpuCtx.current = task;
  down_write(mm + MM.mmap_sem);
  for (const a of addrs) mmap_anon_fixed(mm, a, pages * 4096, VM_ANON_RW);
  up_write(mm + MM.mmap_sem);
  for (const a of addrs) for (let p = 0; p < pages; p++) __do_page_fault(mm, a + p * 4096, FAULT_FLAG_WRITE);
  cpuCtx.current = 0;
  return task;
}

/**
 * __alloc_pages_slowpath() of a task that keeps needing memory: each round, if the victim's memory
 * came back the allocation succeeds; else __alloc_pages_may_oom() -> out_of_memory(), which waits
 * (kills nobody) while an earlier victim is still visible, and kills the next one once it is hidden.
 */
function allocator(g: Record<string, number>): void {
  const want = Atomics.load(mem.i32, at('free_before')) + VICTIM_PAGES;
  for (let i = 0; i < RETRIES; i++) {
    point('exit_aio_liveness:alloc');
    if (nr_free_pages() >= want) return; // reclaim found the victim's pages: no OOM
    out_of_memory();
    if (tsk_is_oom_victim(g.bystander!)) return; // a second victim: its memory will do
    schedule_timeout_uninterruptible(10);
  }
}

export const scenario = defineBuiltinScenario({
  id: 'oom-reaper-exit-aio-liveness-2017',
  title:
    'A victim stuck in exit_aio(): the v4.13 reaper cannot pin it, hides it, and a second task is killed',
  refs: [
    '212925802454 mm: oom: let oom_reap_task and exit_mmap run concurrently (v4.14), Andrea Arcangeli: lore 20170726162912.GA29716@redhat.com',
    'ec8d7c14ea14 mm, oom_reaper: do not mmput synchronously from the oom reaper context (v4.7: the mm_users pin and mmput_async)',
    'mm/oom_kill.c __oom_reap_task_mm() (v4.13: mmget_not_zero), oom_reap_task(), kernel/fork.c __mmput() -> exit_aio()',
  ],
  description:
    'CPU0 is the oom_reaper, CPU1 the OOM victim exiting: its last mmput() enters __mmput() and ' +
    'blocks in exit_aio() on AIO completions, with mm_users already 0 and all its memory still ' +
    'mapped. CPU2 is a task whose allocations keep failing: out_of_memory() waits while the victim ' +
    "is a visible victim. In v4.13 the reaper's mmget_not_zero() fails, it skips the mm, and " +
    'oom_reap_task() sets MMF_OOM_SKIP: the next out_of_memory() kills the bystander while the ' +
    "victim's 128 kB are still mapped (a liveness bug: a spurious second OOM kill; reported here by " +
    "mmrace's check as 'BUG: spurious OOM kill'). From v4.14 the reaper reaps an mm without users " +
    '(the mm_struct is pinned by signal->oom_mm), so when the mm is hidden its memory is gone.',
  variants: [
    { name: 'v4.13', era: 'v4.13', expected: 'reproduces', note: 'the reaper pins mm_users' },
    {
      name: 'v4.14',
      era: 'v4.14',
      expected: 'clean',
      note: '212925802454: no pin, MMF_OOM_SKIP under mmap_sem',
    },
  ],
  expectFailIn: ['v4.13'],
  symptoms: {
    expected: ['BUG: spurious OOM kill'],
  },
  globals: ['reaper', 'victim', 'allocator', 'bystander'],
  cpus: [
    { name: 'oom_reaper', task: 'reaper', kthread: true, run: () => oom_reaper() },
    { name: 'victim exit (exit_aio blocks)', task: 'victim', run: () => do_exit(SIGKILL) },
    { name: 'allocating task', task: 'allocator', run: (g) => allocator(g) },
  ],
  setupOnce: true,
  setup(g) {
    const reaper = spawnTask('oom_reaper', { kthread: true });
    oom_init(reaper);
    const free0 = nr_free_pages();
    const bystander = proc('bystander', [0x08000000], BYSTANDER_PAGES);
    Atomics.store(mem.i32, at('bystander_pages'), free0 - nr_free_pages());
    const victim = proc('victim', VICTIM_VMAS, VICTIM_PAGES);
    const allocatorTask = spawnTask('allocator');
    Atomics.store(mem.i32, at('free_before'), nr_free_pages());
    // The first allocation failure: no current, the largest process is killed and queued.
    out_of_memory();
    Object.assign(g, { reaper, victim, allocator: allocatorTask, bystander });
  },
  checks: [
    {
      name: "the victim's memory freed",
      check: () => {
        // The bystander's own pages may be gone too (killed and reaped once the victim was).
        const used = nr_pages() - nr_free_pages() - Atomics.load(mem.i32, at('bystander_pages'));
        return used <= 0 ? null : `${used} pages still allocated`;
      },
    },
  ],
  jitter: {
    windows: ['exit_aio', 'exit_aio_liveness:alloc', '__oom_reap_task_mm', 'oom_reap:vma'],
    probability: 0.3,
    maxSpin: 300,
    yieldShare: 0.3,
    maxYieldUs: 40,
    overrides: {
      // exit_aio() waits for the AIO requests in flight: the victim sits there, mm_users already 0.
      exit_aio: { probability: 0.95, yieldShare: 1, maxYieldUs: 2000 },
      // The reaper kthread, woken by the kill, gets a CPU a moment later: the victim is already out.
      __oom_reap_task_mm: { probability: 0.8, yieldShare: 1, maxYieldUs: 200 },
    },
  },
  // 1 emulated second is 1 ms: the allocator's 4 s of retries and the v5.18+ reaper's 2 s delay.
  timeScale: 1000,
});
