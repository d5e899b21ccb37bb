// The CLI arguments of the 2017 scenario's v4.15 variant under DFS with preemption bound 1 (its
// whole space, about 2000 schedules): several test files compare runs of it.
export const DFS_V415_BOUND1 = [
  'repro',
  'oom-reaper-vs-exit-mmap-2017',
  '--variant',
  'v4.15',
  '--strategy',
  'dfs',
  '--preemptions',
  '1',
  '--runs',
  '100000',
];
