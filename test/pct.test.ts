// PCT's guarantee, measured: on a synthetic bug of depth d with n CPUs and k steps, the hit rate
// over many runs is at least 1/(n * k^(d-1)). The programs are simulated (each CPU is a count of
// steps), so this tests the strategy itself, deterministically from fixed seeds (not flaky).
// For the depth-2 bug below the exact probability is the bound itself (CPU0 must start with the
// higher priority, 1/2, and the change point must fall on the one step after CPU0's step 4, 1/k),
// so the measured rate sits at the bound; the depth-3 bug is found well above its bound.
import { describe, expect, it } from 'vitest';
import { PctStrategy } from '../src/cpu/strategies/pct.js';
import type { Strategy } from '../src/cpu/strategy.js';

type Event = [cpu: number, step: number];

/** Runs `stepsPerCpu` steps on each of n CPUs under `s`; returns the order of events. */
function simulate(s: Strategy, n: number, stepsPerCpu: number, seed: number): Event[] {
  s.beginRun(seed, n);
  const done = new Array<number>(n).fill(0);
  const order: Event[] = [];
  let current = -1;
  for (let step = 0; order.length < n * stepsPerCpu; step++) {
    const runnable = done.flatMap((d, cpu) => (d < stepsPerCpu ? [cpu] : []));
    current = s.pick(runnable, current, step);
    order.push([current, done[current]!++]);
  }
  s.endRun({ steps: order.length, failed: false });
  return order;
}

const at = (order: Event[], cpu: number, step: number) =>
  order.findIndex(([c, s]) => c === cpu && s === step);

// Depth 2, an atomicity violation: CPU1's step j falls between CPU0's steps a and a+1.
const depth2 = (o: Event[]) => at(o, 0, 4) < at(o, 1, 5) && at(o, 1, 5) < at(o, 0, 5);
// Depth 3: CPU0.a < CPU1.b < CPU2.c < CPU0.a+1.
const depth3 = (o: Event[]) =>
  at(o, 0, 4) < at(o, 1, 3) && at(o, 1, 3) < at(o, 2, 6) && at(o, 2, 6) < at(o, 0, 5);

function hitRate(
  make: () => Strategy,
  n: number,
  m: number,
  bug: (o: Event[]) => boolean,
  runs: number,
): number {
  const s = make();
  let hits = 0;
  for (let r = 0; r < runs; r++) if (bug(simulate(s, n, m, 1000 + r))) hits++;
  return hits / runs;
}

describe('PCT', () => {
  it.each([
    [2, 2, 10, depth2],
    [3, 3, 10, depth3],
  ])('depth %i, %i CPUs, %i steps each: measured hit rate >= 1/(n k^(d-1))', (d, n, m, bug) => {
    const k = n * m;
    const bound = 1 / (n * k ** (d - 1));
    const runs = 4000;
    const rate = hitRate(() => new PctStrategy(d, k), n, m, bug, runs);
    console.log(
      `PCT d=${d} n=${n} k=${k}: measured ${rate.toFixed(4)} over ${runs} runs, bound ${bound.toFixed(5)}`,
    );
    expect(rate).toBeGreaterThanOrEqual(bound);
  });

  it('learns the step bound from the runs it has seen', () => {
    const s = new PctStrategy(2, 4);
    simulate(s, 2, 50, 1);
    expect(s.stepBound).toBe(100);
  });

  it('a depth-1 PCT never preempts: each CPU runs to completion in priority order', () => {
    const order = simulate(new PctStrategy(1, 20), 2, 10, 3);
    const switchesCount = order.filter((e, i) => i > 0 && e[0] !== order[i - 1]![0]).length;
    expect(switchesCount).toBe(1);
  });
});

describe('pct change points on steps it does not see', () => {
  // The controlled runner takes spinner-only steps itself: a change point there must still apply,
  // at the next step PCT sees. Two always-runnable CPUs: the pick switches exactly at the change.
  it('applies a skipped change point at the next decision', () => {
    let checked = 0;
    let evenChanges = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const full = new PctStrategy(2, 10);
      full.beginRun(seed, 2);
      let cur = -1;
      let change = -1;
      for (let step = 0; step < 10; step++) {
        const p = full.pick([0, 1], cur, step);
        if (cur >= 0 && p !== cur && change < 0) change = step;
        cur = p;
      }
      if (change < 0) continue; // the change point fell on step 0, where no CPU runs yet
      checked++;
      if (change % 2 === 0) evenChanges++;
      const sparse = new PctStrategy(2, 10);
      sparse.beginRun(seed, 2);
      cur = -1;
      let seen = -1;
      for (const step of [0, 1, 3, 5, 7, 9]) {
        const p = sparse.pick([0, 1], cur, step);
        if (cur >= 0 && p !== cur && seen < 0) seen = step;
        cur = p;
      }
      expect(seen).toBe(change % 2 === 1 ? change : change + 1);
    }
    expect(checked).toBeGreaterThan(20);
    expect(evenChanges).toBeGreaterThan(5); // skipped change points were exercised
  });
});
