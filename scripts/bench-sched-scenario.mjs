// Benchmark fixture for `npm run bench -- sched`: every CPU passes POINTS preemption points and
// does nothing else. The CPU count comes from the module URL (?cpus=N&points=P), so one file
// serves every shape.
import { defineScenario, point, spawnTask } from 'mmrace';

const q = new URL(import.meta.url).searchParams;
const CPUS = Number(q.get('cpus') ?? 1);
const POINTS = Number(q.get('points') ?? 100000);

function loop() {
  for (let i = 0; i < POINTS; i++) point('bench');
}

const names = Array.from({ length: CPUS }, (_, i) => `t${i}`);
export const scenario = defineScenario({
  id: `bench-sched-${CPUS}`,
  title: `${CPUS} CPUs x ${POINTS} points`,
  refs: [],
  description: 'benchmark fixture',
  variants: [{ name: 'any', era: 'v4.15', expected: 'clean' }],
  globals: names,
  cpus: names.map((task) => ({ name: task, task, run: loop })),
  setup(g) {
    for (const n of names) g[n] = spawnTask(n);
  },
  checks: [],
  jitter: { windows: [], probability: 0, maxSpin: 0, yieldShare: 0, maxYieldUs: 0 },
});
