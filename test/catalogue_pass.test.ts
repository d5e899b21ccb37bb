// `mmrace catalogue`, bounded pass, on the 2017 entry (seeded: free-mode counts vary, PCT's do not).
// Bounds: free v4.14 hits about half its runs (60 of 71 in the era matrix), so 100 runs with no hit
// or a first-hit trial of 300 runs with none are beyond 1e-20; PCT seed 1 hits in its first run.
import { describe, expect, it } from 'vitest';
import { censoredMedian, type PassRow } from '../src/scenarios/catalogue_pass.js';
import { json, mmrace } from './helpers/cli.js';
import { runDistScript } from './helpers/dist_script.js';

describe('mmrace catalogue', () => {
  it('grades the buggy variant by free and PCT hits and first-hit medians, the fixed one clean', () => {
    const r = mmrace(['catalogue', '--only', 'oom-reaper-vs-exit-mmap-2017', '--json'], 120_000);
    expect(r.code, r.stderr).toBe(0);
    const { ok, rows } = json<{ ok: boolean; rows: PassRow[] }>(r);
    expect(ok).toBe(true);
    const [bug, fix] = rows;
    expect(bug).toMatchObject({ variant: 'v4.14', ok: true, free: { runs: 100, observed: 'reproduces' } });
    expect(bug!.pct).toMatchObject({ runs: 300, observed: 'reproduces', seed: expect.any(Number) });
    expect(bug!.pct!.schedule).toMatch(/^S1:3:/);
    expect(bug!.firstHit!.pct).toMatchObject({ hit: 3, trials: 3 });
    expect(bug!.firstHit!.free.hit).toBe(3);
    expect(fix).toMatchObject({
      variant: 'v4.15',
      ok: true,
      free: { hits: 0, observed: 'clean' },
      firstHit: null,
    });
    // Its DFS space at bound 2 (about 270,000 schedules) is beyond the bounded pass's 500: PCT stands in.
    expect(fix!.dfs).toMatchObject({ complete: false, hits: 0 });
    expect(fix!.pct).toMatchObject({ runs: 300, hits: 0, observed: 'clean' });
  }, 120_000);

  it('first-hit medians count a trial that gave up as beyond the cap', () => {
    // 1 trial of 11 hit at run 8,537: the median is beyond the cap, not 8,537.
    expect(censoredMedian([8537, ...Array(10).fill(Infinity)])).toBeNull();
    expect(censoredMedian([5, Infinity, 3])).toBe(5);
    expect(censoredMedian([2, 1, Infinity])).toBe(2);
    expect(censoredMedian([4, 1, 9, 7])).toBe(4); // the lower median, as before
    expect(censoredMedian([])).toBeNull();
  });

  it('an unknown entry is one line, exit 2', () => {
    const r = mmrace(['catalogue', '--only', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("mmrace: unknown catalogue entry 'nope' (see 'mmrace list')");
  });

  it("a variant's minPctRuns lengthens its PCT campaign and first-hit trials beyond the pass's sizes", () => {
    // On the built workers, in a child process, with tiny pass sizes: the 2017 entry's v4.15
    // (clean) and vma-lock-fork's v6.4, whose PCT campaign of seed 1 first fails in run 14.
    const script = `
      import { findScenario, shutdownMachine, sharedMachine } from './dist/src/index.js';
      import { passVariant } from './dist/src/scenarios/catalogue_pass.js';
      const z = { freeRuns: 4, pctRuns: 6, firstHitTrials: 1, firstHitCap: 5, dfsCap: 3 };
      const m = sharedMachine();
      const out = {};
      for (const [id, name] of [['oom-reaper-vs-exit-mmap-2017', 'v4.15'], ['vma-lock-fork', 'v6.4']]) {
        const e = findScenario(id);
        const v = e.scenario.variants.find((x) => x.name === name);
        out[name + '-plain'] = await passVariant(m, e, v, z);
        out[name + '-min'] = await passVariant(m, e, { ...v, minPctRuns: 40 }, z);
      }
      const fork = findScenario('vma-lock-fork');
      const v64 = { ...fork.scenario.variants.find((x) => x.name === 'v6.4'), minPctRuns: 40 };
      out['v6.4-factor'] = await passVariant(m, fork, v64, { ...z, baselineFactor: 10 });
      await shutdownMachine();
      console.log(JSON.stringify(out));
    `;
    const rows = runDistScript<Record<string, PassRow>>(script);
    expect(rows['v4.15-plain']!.pct).toMatchObject({ runs: 6, hits: 0 });
    expect(rows['v4.15-min']!.pct).toMatchObject({ runs: 40, hits: 0 });
    expect(rows['v6.4-plain']!.pct).toMatchObject({ runs: 6, hits: 0 });
    expect(rows['v6.4-min']!.pct).toMatchObject({ runs: 40, seed: 14, observed: 'reproduces' });
    // The PCT trial gives up after 5 runs, or goes on to its hit in run 14; free mode's keep 5.
    expect(rows['v6.4-plain']!.firstHit!.pct).toMatchObject({ hit: 0, trials: 1 });
    expect(rows['v6.4-min']!.firstHit!.pct).toMatchObject({ hit: 1, runs: 14 });
    expect(rows['v6.4-min']!.firstHit!.cap).toBe(5);
    expect(rows['v6.4-min']!.firstHit!.freeNoJitter.cap).toBe(5);
    // baselineFactor: the no-jitter baseline may run to 10x PCT's median runs to the first hit
    // (14 here), so that a baseline without a hit still bounds PCT's gain by 10x.
    expect(rows['v6.4-factor']!.firstHit!.pct).toMatchObject({ hit: 1, runs: 14, cap: 40 });
    expect(rows['v6.4-factor']!.firstHit!.freeNoJitter.cap).toBe(140);
    expect(rows['v6.4-factor']!.firstHit!.free.cap).toBe(5);
  }, 60_000);
});
