// Bounded DFS visits every schedule with at most k preemptions exactly once, then stops.
import { describe, expect, it } from 'vitest';
import { DfsStrategy } from '../src/cpu/strategies/dfs.js';
import { driveRun } from './helpers/dfs_drive.js';

/** All interleavings of n CPUs with m steps each, and their preemption counts. */
function allSchedules(n: number, m: number): { picks: number[]; preemptions: number }[] {
  const out: { picks: number[]; preemptions: number }[] = [];
  const done = new Array<number>(n).fill(0);
  const picks: number[] = [];
  const rec = (current: number, pre: number) => {
    if (picks.length === n * m) {
      out.push({ picks: [...picks], preemptions: pre });
      return;
    }
    for (let c = 0; c < n; c++) {
      if (done[c]! >= m) continue;
      const preempt = current >= 0 && c !== current && done[current]! < m ? 1 : 0;
      done[c]!++;
      picks.push(c);
      rec(c, pre + preempt);
      picks.pop();
      done[c]!--;
    }
  };
  rec(-1, 0);
  return out;
}

/** As the decider drives it; with `runAhead`, granted decisions skip pick() (as a CPU at a point does). */
function explore(n: number, m: number, k: number, runAhead = false): { seen: string[]; explored: number } {
  const s = new DfsStrategy(k);
  const seen: string[] = [];
  for (let guard = 0; guard < 100_000; guard++) {
    const picks = driveRun(s, n, m, runAhead);
    seen.push(picks.join(''));
    if (!s.endRun({ steps: picks.length, failed: false })) break;
  }
  return { seen, explored: s.explored };
}

describe('bounded DFS', () => {
  it.each([
    [2, 3, 0],
    [2, 3, 1],
    [2, 3, 2],
    [3, 2, 2],
    [2, 4, 3],
  ])('%i CPUs x %i steps, bound %i: exactly the schedules within the bound, each once', (n, m, k) => {
    const want = allSchedules(n, m)
      .filter((s) => s.preemptions <= k)
      .map((s) => s.picks.join(''))
      .sort();
    const { seen, explored } = explore(n, m, k);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual(want);
    expect(explored).toBe(want.length);
  });

  it.each([
    [2, 4, 1],
    [3, 2, 2],
    [2, 5, 2],
  ])('%i CPUs x %i steps, bound %i: run-ahead visits the same schedules', (n, m, k) => {
    const plain = explore(n, m, k);
    const ahead = explore(n, m, k, true);
    expect([...ahead.seen].sort()).toEqual([...plain.seen].sort());
    expect(ahead.explored).toBe(plain.explored);
  });

  it('refuses a negative bound', () => {
    expect(() => new DfsStrategy(-1)).toThrow(RangeError);
  });
});
