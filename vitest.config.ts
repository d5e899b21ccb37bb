// Tests that start a CLI or worker threads take a few seconds; on a loaded 2-core host vitest's
// default 5 s limit failed them while they were still making progress. 20 s still bounds a hang.
//
// Two groups, one after the other. First every file whose verdict does not hang on wall-clock
// timing, two files at once (on 2 cores that took CI from 11 to 8 minutes; three, tried, saved
// 30 s of 10 minutes, within the host's swing, and loaded the host enough to fail a clock check).
// Then, one file at a time on a quiet host, the files whose verdict does: free-mode hit rates
// stated as bounds (reproduces within N runs, soaks, torture), wall-clock watchdogs
// (khungtaskd, RCU stalls) and benchmarks (no timing is asserted, but a tiny sample under load
// once measured no operation at all: bench.test.ts, opsPerSec 0 in a fresh clone). A file that
// asserts only clean verdicts (no load makes correct code fail) is untimed. Two at once, a
// hung-task report once missed a writer that blocked one khungtaskd interval after the readers
// (khungtaskd now makes one more pass then, as the kernel's would), and once printed the held
// locks twice, over two passes: its output depends on the host's timing.
import { configDefaults, defineConfig } from 'vitest/config';

export const TIMED = [
  'test/bench.test.ts',
  'test/bench_exit_cost.test.ts',
  'test/bench_fault.test.ts',
  'test/bench_fault_scaling.test.ts',
  'test/catalogue_munlock.test.ts',
  'test/catalogue_pass.test.ts',
  'test/catalogue_teardown.test.ts',
  'test/catalogue_vma.test.ts',
  'test/deadlock.test.ts',
  'test/eras_cli.test.ts',
  'test/hung_task.test.ts',
  'test/idle_warp.test.ts',
  'test/rcu_sched_workers.test.ts',
  'test/rcu_workers.test.ts',
  'test/rwsem_xadd_stress.test.ts',
  'test/scenario_2017.test.ts',
  'test/symptoms.test.ts',
  'test/teardown_soak.test.ts',
  'test/torture.test.ts',
  'test/vma_lock_jann_free.test.ts',
  'test/vma_lock_soak.test.ts',
  'test/workers.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    // Worker threads, not child processes: a test file's start cost 30% less CPU time (most files
    // spend theirs in the mmrace processes they start, which are their own either way).
    pool: 'threads',
    projects: [
      {
        extends: true,
        test: {
          name: 'untimed',
          exclude: [...configDefaults.exclude, ...TIMED],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'timed', include: TIMED, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
