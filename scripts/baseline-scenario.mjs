// Benchmark baseline: the 2017 scenario's machine shape (3 CPUs, same setup) with CPU programs
// that do nothing, so its runs/s is the harness's own cost per run.
import { defineScenario } from 'mmrace';
import { scenario as real } from '../dist/src/scenarios/oom-reaper-vs-exit-mmap-2017.js';

export const scenario = defineScenario({
  ...real,
  id: 'baseline-empty-programs',
  title: 'harness baseline: same setup, empty CPU programs',
  variants: [{ name: 'v4.15', era: 'v4.15', expected: 'clean' }],
  cpus: real.cpus.map((c) => ({ ...c, kthread: false, run: () => {} })),
  checks: [],
});
