// One pass over the catalogue, as the issue of the catalogue asks it to be shown: per variant,
// hits/runs in free mode and under PCT; for a variant expected to reproduce, the median time and
// runs to the first hit in both, and in free mode with the jitter off (the baseline PCT must beat
// 10x); for one expected clean, a DFS of its whole space at preemption bound 2 when that is small,
// else free and PCT campaigns with no hit.
import type { Machine } from '../cpu/machine.js';
import type { StrategyConfig } from '../cpu/strategies/index.js';
import { type CampaignOptions, runVariant, type VariantResult } from './campaign.js';
import type { CatalogueEntry } from './catalogue.js';
import type { Variant } from './scenario.js';
import type { Observed } from './symptoms.js';

export interface PassSizes {
  freeRuns: number;
  pctRuns: number;
  /** Campaigns (seeds) run to the first hit, for the medians. */
  firstHitTrials: number;
  /** A trial gives up after this many runs. */
  firstHitCap: number;
  /** DFS stops here; a space explored within it is "small". */
  dfsCap: number;
  /**
   * Free mode without jitter (the baseline PCT's gain is measured against) runs each trial to at
   * least this many times PCT's median runs to the first hit, so that a baseline that never hits
   * still shows PCT's gain to be at least this factor (absent: the first-hit cap only).
   */
  baselineFactor?: number;
}

export const BOUNDED: PassSizes = {
  freeRuns: 100,
  pctRuns: 300,
  firstHitTrials: 3,
  firstHitCap: 300,
  dfsCap: 500,
};
export const FULL: PassSizes = {
  freeRuns: 1000,
  pctRuns: 10_000,
  firstHitTrials: 11,
  firstHitCap: 2000,
  dfsCap: 20_000,
  // The catalogue's goal is PCT >= 10x fewer runs than free mode without jitter: where the baseline
  // never hits within 2,000 runs (Jann Horn's case), 2,000 runs could only show "> 2x".
  baselineFactor: 10,
};

export interface Campaign {
  runs: number;
  hits: number;
  observed: Observed;
  /** The first failing run's seed and, under PCT, its schedule. */
  seed: number | null;
  schedule: string | null;
  failure: string | null;
}

export interface FirstHit {
  /**
   * Medians over every trial, a trial that gave up counting as beyond the cap (a censored median):
   * null when half of the trials or more gave up, whose median is then "more than `cap` runs".
   */
  ms: number | null;
  runs: number | null;
  /** Trials that hit within the cap, of those run. */
  hit: number;
  trials: number;
  /** The runs each trial gave up after. */
  cap: number;
}

export interface PassRow {
  id: string;
  variant: string;
  era: string;
  expected: string;
  free: Campaign;
  pct: Campaign | null;
  /** DFS at preemption bound 2: the whole space when `complete`. */
  dfs: (Campaign & { complete: boolean }) | null;
  /** Trials to the first hit; `cap`: the first-hit cap of the pass (each FirstHit has its own). */
  firstHit: { free: FirstHit; pct: FirstHit; freeNoJitter: FirstHit; cap: number } | null;
  ok: boolean;
}

type Step = (label: string, total: number | null) => ((runs: number, hits: number) => void) | undefined;

const PCT: StrategyConfig = { name: 'pct', depth: 2 };

function campaignOf(r: VariantResult): Campaign {
  const failing = r.firstHit ?? r.firstCheckFailure ?? r.firstUnexpected;
  return {
    runs: r.runs,
    hits: r.hits + r.checkFailures,
    observed: r.observed,
    seed: failing?.seed ?? null,
    schedule: r.schedule ?? r.firstUnexpected?.schedule ?? null,
    failure:
      r.firstHit?.summary ?? (r.firstCheckFailure ? `final check '${r.firstCheckFailure.check}'` : null),
  };
}

/** The lower median; null when there is none or it is a trial that gave up (Infinity). */
export const censoredMedian = (xs: readonly number[]): number | null => {
  const m = xs.length === 0 ? Infinity : [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  return Number.isFinite(m) ? m : null;
};

async function firstHit(
  machine: Machine,
  e: CatalogueEntry,
  v: Variant,
  opts: Omit<CampaignOptions, 'runs' | 'seed'>,
  z: PassSizes,
  cap = z.firstHitCap,
): Promise<FirstHit> {
  const ms: number[] = [];
  const runs: number[] = [];
  for (let t = 0; t < z.firstHitTrials; t++) {
    const r = await runVariant(
      machine,
      e.scenario,
      v,
      { ...opts, runs: cap, seed: 1 + t * 100_003, stopOnHit: true },
      e.url,
    );
    const hit = r.hits + r.checkFailures > 0;
    ms.push(hit ? r.wallMs : Infinity);
    runs.push(hit ? r.runs : Infinity);
  }
  const hit = runs.filter(Number.isFinite).length;
  return { ms: censoredMedian(ms), runs: censoredMedian(runs), hit, trials: z.firstHitTrials, cap };
}

export async function passVariant(
  machine: Machine,
  e: CatalogueEntry,
  v: Variant,
  z: PassSizes,
  step: Step = () => undefined,
): Promise<PassRow> {
  const s = e.scenario;
  const run = async (label: string, runs: number, opts: Omit<CampaignOptions, 'runs' | 'seed'>) => {
    const tell = step(`${s.id} ${v.name} ${label}`, opts.strategy?.name === 'dfs' ? null : runs);
    return runVariant(
      machine,
      s,
      v,
      { ...opts, runs, seed: 1, ...(tell ? { onProgress: tell } : {}) },
      e.url,
    );
  };
  const free = campaignOf(await run('free', z.freeRuns, { mode: 'free' }));
  const row: PassRow = {
    id: s.id,
    variant: v.name,
    era: v.era,
    expected: v.expected,
    free,
    pct: null,
    dfs: null,
    firstHit: null,
    ok: false,
  };
  if (v.expected === 'clean') {
    const d = await run('dfs', z.dfsCap, { mode: 'controlled', strategy: { name: 'dfs', preemptions: 2 } });
    row.dfs = { ...campaignOf(d), complete: d.explored < z.dfsCap };
  }
  const pctRuns = Math.max(z.pctRuns, v.minPctRuns ?? 0);
  if (!row.dfs?.complete)
    row.pct = campaignOf(await run('pct', pctRuns, { mode: 'controlled', strategy: PCT }));
  if (v.expected === 'reproduces') {
    const free = await firstHit(machine, e, v, { mode: 'free' }, z);
    const pct = await firstHit(
      machine,
      e,
      v,
      { mode: 'controlled', strategy: PCT },
      z,
      Math.max(z.firstHitCap, pctRuns),
    );
    const f = z.baselineFactor ?? 0;
    const baselineCap = Math.max(z.firstHitCap, Math.ceil(f * (pct.runs ?? 0)));
    const freeNoJitter = await firstHit(machine, e, v, { mode: 'free', noJitter: true }, z, baselineCap);
    row.firstHit = { free, pct, freeNoJitter, cap: z.firstHitCap };
  }
  const graded = [row.free, row.pct, row.dfs].filter((c): c is Campaign => c !== null);
  row.ok = graded.every((c) => c.observed === v.expected);
  return row;
}
