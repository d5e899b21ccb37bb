// Bounded DFS visits every schedule with at most k preemptions exactly once, then stops.
import { describe, expect, it } from 'vitest';
import { DfsStrategy } from '../src/cpu/strategies/dfs.js';

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

function explore(n: number, m: number, k: number): { seen: string[]; explored: number } {
  const s = new DfsStrategy(k);
  const seen: string[] = [];
  for (let guard = 0; guard < 100_000; guard++) {
    s.beginRun();
    const done = new Array<number>(n).fill(0);
    const picks: number[] = [];
    let current = -1;
    for (let step = 0; picks.length < n * m; step++) {
      const runnable = done.flatMap((d, c) => (d < m ? [c] : []));
      current = s.pick(runnable, current, step);
      done[current]!++;
      picks.push(current);
    }
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

  it('refuses a negative bound', () => {
    expect(() => new DfsStrategy(-1)).toThrow(RangeError);
  });
});
