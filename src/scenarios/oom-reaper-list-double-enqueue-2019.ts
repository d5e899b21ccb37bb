// Tetsuo Handa, Jan 2019, "oom, oom_reaper: do not enqueue same task twice" (kernel-mm.md §6 Q1;
// reported by Arkadiusz Miśkiewicz with memcg memory.oom.group). From v4.7, when
// out_of_memory()'s task_will_free_mem(current) shortcut could queue a task for the reaper, to
// v4.20, wake_oom_reaper() tells "already queued" by `tsk == oom_reaper_list || tsk->oom_reaper_list`.
// The list is LIFO and linked through task->oom_reaper_list, so the task at its tail (not the head,
// its link NULL) looks unqueued: it is pushed again, its link now pointing at the head, and the
// list is a cycle through it; the reaper takes it twice, with two task references. Arkadiusz saw the
// consequence as a memcg whose task count never went back to zero (a task reference leaked); mmrace
// has no memcg, so the scenario checks the cause: right after the second OOM path queued the task,
// the queue (walked under oom_reaper_lock, as CONFIG_DEBUG_LIST would check a list_add) holds it
// twice. v5.0 (9bcdeb51bd7d) tests and sets MMF_OOM_REAP_QUEUED in the victim's mm instead: an mm
// is queued once.
//
// Measured on the 2-core host (shared with 4 other workers), Dec 2026:
//   v4.17 free: 762/1000 (from the first run); PCT (depth 2): 487/1000 (from the first run).
//   v5.15-rc1 free: 0/1000; PCT: 0/10000. `--eras all`: v4.13-v4.17 55-62/71, later eras 0/71.
import { cpuCtx, point } from '../cpu/context.js';
import { do_exit } from '../kernel/exit.js';
import { mm_alloc, spawnTask } from '../kernel/fork.js';
import { down_write, up_write } from '../kernel/locking/rwsem.js';
import { spin_lock, spin_unlock } from '../kernel/locking/spinlock.js';
import { task_pid } from '../kernel/task_struct.js';
import { __do_page_fault } from '../mm/fault.js';
import { FAULT_FLAG_WRITE } from '../mm/memory.js';
import { MM } from '../mm/mm_types.js';
import { mmap_anon_fixed } from '../mm/mmap.js';
import { oom_init, oom_kill_process, oom_reaper, oomStatic, out_of_memory } from '../mm/oom_kill.js';
import { oom_reaper_queue } from '../mm/oom_reaper.js';
import { mem } from '../shm/arena.js';
import { defineStatics } from '../shm/statics.js';
import { VM_ANON_RW } from './populate.js';
import { defineBuiltinScenario } from './scenario.js';
import { EVERY_PAGE_FREED } from './teardown_checks.js';

const SIGKILL = 9;

const ST = defineStatics('oom_reaper_list_double_enqueue', ['twice', 'seen']);
const at = (f: 'twice' | 'seen'): number => ST.base() + ST.layout[f];

/** A process with `pages` anonymous pages at 0x08000000, faulted in. */
function proc(comm: string, pages: number): number {
  const mm = mm_alloc();
  const task = spawnTask(comm, { mm });
  cpuCtx.current = task;
  down_write(mm + MM.mmap_sem);
  mmap_anon_fixed(mm, 0x08000000, pages * 4096, VM_ANON_RW);
  up_write(mm + MM.mmap_sem);
  for (let p = 0; p < pages; p++) __do_page_fault(mm, 0x08000000 + p * 4096, FAULT_FLAG_WRITE);
  cpuCtx.current = 0;
  return task;
}

/** The reaper's queue under oom_reaper_lock: the first task found on it twice (0: none). */
function queued_twice(): number {
  spin_lock(oomStatic('oom_reaper_lock'));
  const q = oom_reaper_queue(8);
  spin_unlock(oomStatic('oom_reaper_lock'));
  return q.find((t, i) => q.indexOf(t) !== i) ?? 0;
}

export const scenario = defineBuiltinScenario({
  id: 'oom-reaper-list-double-enqueue-2019',
  title: 'oom_reaper_list: the task at the tail is queued again (v4.7-v4.20)',
  refs: [
    'LKML 2019-01 Tetsuo Handa, "[PATCH] oom, oom_reaper: do not enqueue same task twice" (reported by Arkadiusz Miśkiewicz, memcg memory.oom.group)',
    '9bcdeb51bd7d oom, oom_reaper: do not enqueue same task twice (v5.0: MMF_OOM_REAP_QUEUED)',
    'af8e15cc85a2 oom, oom_reaper: do not enqueue task if it is on the oom_reaper_list head (v4.6: the head half of the test)',
    'mm/oom_kill.c wake_oom_reaper(), oom_reaper(), out_of_memory() (task_will_free_mem(current))',
  ],
  description:
    'Two processes of one OOM group were killed in turn, A then B: oom_reaper_list is B -> A, A at ' +
    'the tail with a NULL link. CPU0 is the oom_reaper kthread, woken but not yet running. CPU1 is ' +
    "A, killed but still in the kernel, whose allocation fails: out_of_memory()'s " +
    'task_will_free_mem(current) shortcut calls wake_oom_reaper(A). A is not the head and its link ' +
    'is NULL, so v4.7-v4.20 push it again: A -> B -> A -> ..., a cycle, A queued twice with two ' +
    'references (the final check catches it). CPU2 is B exiting. v5.0 queues an mm once ' +
    '(test_and_set_bit(MMF_OOM_REAP_QUEUED)); v5.18 keeps the bit for its timer.',
  variants: [
    { name: 'v4.17', era: 'v4.17', expected: 'reproduces', note: 'the per-task "already queued" test' },
    { name: 'v5.15-rc1', era: 'v5.15-rc1', expected: 'clean', note: 'MMF_OOM_REAP_QUEUED (v5.0)' },
  ],
  expectFailIn: ['v4.13', 'v4.14', 'v4.15', 'v4.17'],
  symptoms: {
    expected: ["final check 'each task on oom_reaper_list once'"],
  },
  globals: ['reaper', 'a', 'b'],
  cpus: [
    {
      name: 'oom_reaper',
      task: 'reaper',
      kthread: true,
      run: () => {
        // Woken by the kills; the kthread gets a CPU a little later.
        point('double_enqueue:reaper_wakeup');
        oom_reaper();
      },
    },
    {
      name: 'A: allocation fails after the kill',
      task: 'a',
      run: () => {
        point('double_enqueue:alloc');
        out_of_memory(); // task_will_free_mem(current): mark_oom_victim() and wake_oom_reaper() only
        const twice = queued_twice();
        if (twice) Atomics.store(mem.i32, at('twice'), task_pid(twice));
        Atomics.store(mem.i32, at('seen'), 1);
        do_exit(SIGKILL);
      },
    },
    { name: 'B exit', task: 'b', run: () => do_exit(SIGKILL) },
  ],
  setupOnce: true,
  setup(g) {
    Atomics.store(mem.i32, at('twice'), 0);
    Atomics.store(mem.i32, at('seen'), 0);
    const reaper = spawnTask('oom_reaper', { kthread: true });
    oom_init(reaper);
    const a = proc('A', 8);
    const b = proc('B', 4);
    // memory.oom.group: the OOM killer kills the group's processes one after the other.
    oom_kill_process(a);
    oom_kill_process(b);
    Object.assign(g, { reaper, a, b });
  },
  checks: [
    {
      name: 'each task on oom_reaper_list once',
      check: () => {
        const pid = Atomics.load(mem.i32, at('twice'));
        return pid ? `pid ${pid} queued twice: oom_reaper_list is a cycle through it` : null;
      },
    },
    EVERY_PAGE_FREED,
  ],
  jitter: {
    windows: ['double_enqueue:reaper_wakeup', 'double_enqueue:alloc', 'oom_reap:vma'],
    probability: 0.3,
    maxSpin: 300,
    yieldShare: 0.3,
    maxYieldUs: 40,
    overrides: {
      'double_enqueue:reaper_wakeup': { probability: 0.9, yieldShare: 1, maxYieldUs: 100 },
    },
  },
  // 1 emulated second is 1 ms: the v5.18+ reaper's 2 s delay costs 2 ms a run.
  timeScale: 1000,
});
