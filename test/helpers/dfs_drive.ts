// One run of a synthetic program under DFS, as the decider drives it: n CPUs of m steps each; with
// `runAhead`, granted decisions skip pick() (as a CPU at a point does). Returns the run's picks.
import type { DfsStrategy } from '../../src/cpu/strategies/dfs.js';

export function driveRun(s: DfsStrategy, n: number, m: number, runAhead: boolean): number[] {
  s.beginRun();
  const done = new Array<number>(n).fill(0);
  const picks: number[] = [];
  let current = -1;
  while (picks.length < n * m) {
    const runnable = done.flatMap((d, c) => (d < m ? [c] : []));
    current = s.pick(runnable, current, picks.length);
    done[current]!++;
    picks.push(current);
    if (!runAhead) continue;
    const grant = s.runAhead(current, picks.length - 1);
    let used = 0;
    while (used < grant && done[current]! < m) {
      done[current]!++;
      used++;
    }
    if (used > 0) s.ranAhead(current, picks.length, used);
    for (let i = 0; i < used; i++) picks.push(current);
  }
  return picks;
}
