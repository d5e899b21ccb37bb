// Catalogue entry vma-lock-new-vma-visible (kernel-mm.md §6 G2, latent in 6.4.0): every variant
// clean, on the built workers, seeded PCT (its counts do not vary). The program must really meet
// the window: faults that start while the VMA is one mmap_region() stored but has not finished,
// none of which 6.4.0 (no anon_vma yet) or v6.6 (write-locked before the store) handles under the
// VMA lock. The full measurements (1,000 free, 10,000 PCT runs) are in the scenario's header.
import { describe, expect, it } from 'vitest';
import type { PassRow } from '../src/scenarios/catalogue_pass.js';
import { json, mmrace } from './helpers/cli.js';
import { runDistScript } from './helpers/dist_script.js';

const ID = 'vma-lock-new-vma-visible';

type Row = {
  variant: string;
  observed: string;
  hits: number;
  checkFailures: number;
  unexpected: number;
  error: string | null;
  totals: Record<string, number>;
};

/** Each variant under PCT (seed 1, `runs` runs) in a child process, with the scenario's counters. */
function pctCampaigns(runs: number): Row[] {
  const script = `
    import { findScenario, runVariant, sharedMachine, shutdownMachine } from './dist/src/index.js';
    import { takeNewVmaTotals } from './dist/src/scenarios/${ID}.js';
    const e = findScenario('${ID}');
    const m = sharedMachine();
    const rows = [];
    for (const v of e.scenario.variants) {
      takeNewVmaTotals();
      const opts = { runs: ${runs}, seed: 1, mode: 'controlled', strategy: { name: 'pct' } };
      const r = await runVariant(m, e.scenario, v, opts, e.url);
      const { hits, checkFailures, unexpected, observed } = r;
      const error = r.error ?? null;
      rows.push({ variant: v.name, observed, hits, checkFailures, unexpected, error, totals: takeNewVmaTotals() });
    }
    await shutdownMachine();
    console.log(JSON.stringify(rows));
  `;
  return runDistScript<Row[]>(script);
}

describe(`catalogue entry ${ID} (G2, latent in 6.4.0)`, () => {
  it('every variant clean under PCT; faults meet the unfinished VMA and fall back to mmap_lock', () => {
    const rows = pctCampaigns(500);
    for (const x of rows) console.log(`${ID} ${x.variant}: ${JSON.stringify(x.totals)}`);
    expect(
      rows.map((x) => [x.variant, x.observed, x.hits + x.checkFailures + x.unexpected, x.error]),
    ).toEqual([
      ['v6.4', 'clean', 0, null],
      ['v6.6', 'clean', 0, null],
      ['v6.15', 'clean', 0, null],
    ]);
    const [v64, v66] = rows;
    for (const x of [v64!, v66!]) {
      expect(x.totals.runs).toBe(500);
      expect(x.totals.window).toBeGreaterThan(0);
      expect(x.totals.window_vma_locked).toBe(0);
      expect(x.totals.VMA_LOCK_SUCCESS).toBeGreaterThan(5_000); // the per-VMA path runs
    }
  }, 30_000);

  it('the bounded catalogue pass grades each variant as expected', () => {
    const r = mmrace(['catalogue', '--only', ID, '--json'], 30_000);
    expect(r.code, r.stderr).toBe(0);
    const { ok, rows } = json<{ ok: boolean; rows: PassRow[] }>(r);
    expect(ok).toBe(true);
    expect(rows.map((x) => [x.variant, x.ok, x.free.observed, x.pct?.observed])).toEqual([
      ['v6.4', true, 'clean', 'clean'],
      ['v6.6', true, 'clean', 'clean'],
      ['v6.15', true, 'clean', 'clean'],
    ]);
  }, 30_000);
});
