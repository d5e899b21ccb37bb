// Wenwei Tao / Tetsuo Handa, Aug 2017: the oom_reaper tears down an address space that a thread of
// the victim is still using (kernel-mm.md §6 C3, §4.3). do_group_exit() sets SIGNAL_GROUP_EXIT before
// it sends SIGKILL to the other threads, so the OOM killer (task_will_free_mem()) already treats
// the process as dying, and the reaper zaps its anonymous memory, while a thread inside write(fd,
// buf) has no fatal signal yet and goes on copying from buf. Each access to a reaped page faults,
// and the fault maps a fresh zero page where the data was: zeroes go to the file. Nothing in dmesg:
// mmrace's populate-after-reap check (src/mm/oom_reaped_ptes.ts) reports the fault that installs a
// PTE over a slot the reaper cleared. 6b31d5955cb2 (v4.13-rc5) makes every fault that would
// populate a PTE check MMF_UNSTABLE under the PTE lock (check_stable_address_space()) and fail with
// VM_FAULT_SIGBUS: the copy fails, nothing corrupt becomes visible.
//
// The buggy variant runs the hazard era v4.13-rc4 (outside the era matrix, `mmrace eras` lists it
// in HAZARD_ERAS); every era of the matrix has check_stable_address_space() and must be clean.
//
// Measured on the 2-core host (shared with 4 other workers), Dec 2026:
//   v4.13-rc4 free: 200/200 runs hit (from the first); PCT (depth 2): 676/1000 (from the first).
//   v4.13 free: 0/1000; PCT: 0/10000. Every era of `--eras all`: 0/71.
import { cpuCtx, point } from '../cpu/context.js';
import { do_exit } from '../kernel/exit.js';
import { mm_alloc, mmget, spawnTask } from '../kernel/fork.js';
import { down_write, up_write } from '../kernel/locking/rwsem.js';
import { get_current } from '../kernel/sched.js';
import { task_unlock } from '../kernel/task_lock.js';
import { PF_EXITING, SIGNAL, SIGNAL_GROUP_EXIT, TASK } from '../kernel/task_struct.js';
import { mark_oom_victim, wake_oom_reaper } from '../mm/era_ops.js';
import { __do_page_fault } from '../mm/fault.js';
import { kread } from '../mm/kasan.js';
import { FAULT_FLAG_WRITE, VM_FAULT_SIGBUS } from '../mm/memory.js';
import { MM } from '../mm/mm_types.js';
import { mmap_anon_fixed } from '../mm/mmap.js';
import { do_send_sig_info_SIGKILL, find_lock_task_mm, oom_init, oom_reaper } from '../mm/oom_kill.js';
import { mem } from '../shm/arena.js';
import { defineStatics } from '../shm/statics.js';
import { VM_ANON_RW } from './populate.js';
import { defineBuiltinScenario } from './scenario.js';
import { EVERY_PAGE_FREED, RSS_ZERO_AT_MMDROP } from './teardown_checks.js';

const SIGKILL = 9;
/** The write(2) buffer: 16 anonymous pages, written by the process before it was killed. */
const BUF = 0x08000000;
const BUF_PAGES = 16;
/** The rest of the process's memory, in another page table. */
const HEAP = 0x40000000;
const HEAP_PAGES = 8;

const ST = defineStatics('oom_reaper_populate', ['copied', 'sigbus']);
const at = (f: 'copied' | 'sigbus'): number => ST.base() + ST.layout[f];

/**
 * The writer's copy_from_user() of buf, page by page: a load from each page, which faults when its
 * PTE is gone (a present PTE makes the fault a no-op: the handler only marks it young). The
 * ->write_iter of a file keeps no page of user memory: it reads buf twice, as generic_perform_write()
 * does (iov_iter_fault_in_readable(), then the atomic copy).
 */
function copy_from_user_buf(mm: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let p = 0; p < BUF_PAGES; p++) {
      point('populate:copy_from_user');
      if (__do_page_fault(mm, BUF + p * 4096, 0) & VM_FAULT_SIGBUS) {
        // -EFAULT: a short write; SIGKILL is on its way.
        Atomics.add(mem.i32, at('sigbus'), 1);
        return;
      }
      Atomics.add(mem.i32, at('copied'), 1);
    }
  }
}

export const scenario = defineBuiltinScenario({
  id: 'oom-reaper-populate-after-reap-2017',
  title: 'oom_reaper vs a victim thread still in write(): a fault repopulates a reaped page',
  refs: [
    '6b31d5955cb2 mm, oom: fix potential data corruption when oom_reaper races with writer (v4.13-rc5)',
    'lore 20170807113839.16695-3-mhocko@kernel.org (the fix); reported by Wenwei Tao, reproducer 201708040646.v746kkhC024636@I-love.SAKURA.ne.jp (Tetsuo Handa)',
    'include/linux/oom.h check_stable_address_space(), mm/memory.c do_anonymous_page(), mm/oom_kill.c __oom_reap_task_mm()',
  ],
  description:
    'A two-thread process is exiting: its main thread called exit_group() (SIGNAL_GROUP_EXIT set, ' +
    'the other thread not yet signalled) and its allocation in the exit path ran out of memory, so ' +
    "out_of_memory()'s task_will_free_mem(current) shortcut marked it and woke the oom_reaper " +
    '(CPU0), which zaps the anonymous memory under mmap_sem for reading. CPU1 is the other thread, ' +
    'in write(fd, buf): copy_from_user() reads buf page by page and faults on each page the reaper ' +
    'already zapped. Before 6b31d5955cb2 do_anonymous_page() maps a fresh page there: the file gets ' +
    'zeroes instead of the data (silent corruption; mmrace reports the PTE installed over a slot the ' +
    'reaper cleared). v4.13 checks MMF_UNSTABLE under the PTE lock and returns VM_FAULT_SIGBUS: the ' +
    'copy fails with -EFAULT. CPU2 is the main thread finishing its exit. The v5.18+ reaper waits 2 ' +
    's (OOM_REAPER_DELAY): there the write is long over before any reaping.',
  variants: [
    {
      name: 'v4.13-rc4',
      era: 'v4.13-rc4',
      expected: 'reproduces',
      note: 'hazard era: no check_stable_address_space()',
    },
    { name: 'v4.13', era: 'v4.13', expected: 'clean', note: '6b31d5955cb2: MMF_UNSTABLE -> SIGBUS' },
  ],
  expectFailIn: ['v4.13-rc4'],
  symptoms: {
    expected: ['BUG: mmrace: fault repopulated a page the OOM reaper freed'],
  },
  globals: ['reaper', 'main', 'writer', 'mm'],
  cpus: [
    { name: 'oom_reaper', task: 'reaper', kthread: true, run: () => oom_reaper() },
    {
      name: 'thread in write(fd, buf)',
      task: 'writer',
      run: (g) => {
        copy_from_user_buf(g.mm!);
        // zap_other_threads(): do_group_exit()'s SIGKILL reaches this thread; back to user mode it
        // is delivered.
        do_send_sig_info_SIGKILL(get_current());
        do_exit(SIGKILL);
      },
    },
    { name: 'main thread exit_group()', task: 'main', run: () => do_exit(SIGKILL) },
  ],
  setupOnce: true,
  setup(g) {
    Atomics.store(mem.i32, at('copied'), 0);
    Atomics.store(mem.i32, at('sigbus'), 0);
    const reaper = spawnTask('oom_reaper', { kthread: true });
    oom_init(reaper);
    const mm = mm_alloc();
    const main = spawnTask('writer', { mm });
    mmget(mm);
    const writer = spawnTask('writer', { mm }); // the second thread (CLONE_VM)
    cpuCtx.current = main;
    down_write(mm + MM.mmap_sem);
    mmap_anon_fixed(mm, BUF, BUF_PAGES * 4096, VM_ANON_RW);
    mmap_anon_fixed(mm, HEAP, HEAP_PAGES * 4096, VM_ANON_RW);
    up_write(mm + MM.mmap_sem);
    for (let p = 0; p < BUF_PAGES; p++) __do_page_fault(mm, BUF + p * 4096, FAULT_FLAG_WRITE);
    for (let p = 0; p < HEAP_PAGES; p++) __do_page_fault(mm, HEAP + p * 4096, FAULT_FLAG_WRITE);
    // The main thread is in do_group_exit(): SIGNAL_GROUP_EXIT, PF_EXITING. Its allocation failed:
    // out_of_memory() -> task_will_free_mem(current) -> mark_oom_victim(), wake_oom_reaper(), no
    // kill. In the kernel both threads share signal->oom_mm, so both are tsk_is_oom_victim(); the
    // model's threads are tasks of their own, so each is marked (as teardown-soak does).
    Atomics.or(mem.i32, kread(main + TASK.signal) + SIGNAL.flags, SIGNAL_GROUP_EXIT);
    Atomics.or(mem.i32, main + TASK.flags, PF_EXITING);
    for (const t of [main, writer]) {
      const p = find_lock_task_mm(t);
      if (p) {
        mark_oom_victim(p);
        task_unlock(p);
      }
    }
    wake_oom_reaper(main);
    cpuCtx.current = 0;
    Object.assign(g, { reaper, main, writer, mm });
  },
  checks: [EVERY_PAGE_FREED, RSS_ZERO_AT_MMDROP],
  jitter: {
    windows: ['populate:copy_from_user', '__oom_reap_task_mm', 'oom_reap:vma', 'zap_pte', 'exit_mm:mmput'],
    probability: 0.3,
    maxSpin: 300,
    yieldShare: 0.2,
    maxYieldUs: 30,
    overrides: {
      // The copy runs page by page with the file's work in between (page cache lookups, locks).
      'populate:copy_from_user': { probability: 0.6, yieldShare: 0.7, maxYieldUs: 40 },
    },
  },
  // 1 emulated second is 1 ms: the v5.18+ reaper's 2 s delay costs 2 ms a run.
  timeScale: 1000,
});
