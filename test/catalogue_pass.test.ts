// `mmrace catalogue`, bounded pass, on the 2017 entry (seeded: free-mode counts vary, PCT's do not).
// Bounds: free v4.14 hits about half its runs (60 of 71 in the era matrix), so 100 runs with no hit
// or a first-hit trial of 300 runs with none are beyond 1e-20; PCT seed 1 hits in its first run.
import { describe, expect, it } from 'vitest';
import type { PassRow } from '../src/scenarios/catalogue_pass.js';
import { json, mmrace } from './helpers/cli.js';

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

  it('an unknown entry is one line, exit 2', () => {
    const r = mmrace(['catalogue', '--only', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("mmrace: unknown catalogue entry 'nope' (see 'mmrace list')");
  });
});
