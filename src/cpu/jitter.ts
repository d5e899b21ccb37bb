// Seeded jitter at named race windows (free mode). A decision is a pure function of
// (run seed, cpu, window, occurrence), so the same seed injects the same jitter.
import { combine, hashString } from './prng.js';

export interface JitterKnobs {
  readonly probability: number;
  readonly maxSpin: number;
  readonly yieldShare: number;
  readonly maxYieldUs: number;
}

export interface JitterConfig {
  /** Names of the points where jitter may be injected. */
  readonly windows: readonly string[];
  /** Chance of injecting anything at one pass through a window. */
  readonly probability: number;
  /** Per-window settings that override the ones above. */
  readonly overrides?: Readonly<Record<string, Partial<JitterKnobs>>>;
  /** Largest busy delay, in spin iterations (one iteration is one Atomics.load, about 20 ns). */
  readonly maxSpin: number;
  /** Share of injections that yield the host thread instead of spinning. */
  readonly yieldShare: number;
  /** Longest yield, in microseconds. */
  readonly maxYieldUs: number;
}

export const NO_JITTER: JitterConfig = {
  windows: [],
  probability: 0,
  maxSpin: 0,
  yieldShare: 0,
  maxYieldUs: 0,
};

export type JitterDecision =
  | { readonly kind: 'none' }
  | { readonly kind: 'delay'; readonly spins: number }
  | { readonly kind: 'yield'; readonly us: number };

const NONE: JitterDecision = { kind: 'none' };

/** `seed` is the run's own seed: a campaign's run r uses seed + r, so one run replays alone. */
export function jitterDecision(
  cfg: JitterConfig,
  seed: number,
  cpu: number,
  windowHash: number,
  occurrence: number,
  knobs: JitterKnobs = cfg,
): JitterDecision {
  const h = combine(seed, cpu, windowHash, occurrence);
  const u = (h & 0xffff) / 0x10000;
  if (u >= knobs.probability) return NONE;
  const h2 = combine(h, 0x5bd1e995);
  if ((h2 & 0xffff) / 0x10000 < knobs.yieldShare) {
    return { kind: 'yield', us: 1 + Math.floor(((h2 >>> 16) / 0x10000) * knobs.maxYieldUs) };
  }
  return { kind: 'delay', spins: Math.floor(((h2 >>> 16) / 0x10000) * knobs.maxSpin) };
}

export interface WindowInfo {
  readonly hash: number;
  readonly knobs: JitterKnobs;
}

export function windowTable(cfg: JitterConfig): Map<string, WindowInfo> {
  const base: JitterKnobs = {
    probability: cfg.probability,
    maxSpin: cfg.maxSpin,
    yieldShare: cfg.yieldShare,
    maxYieldUs: cfg.maxYieldUs,
  };
  return new Map(
    cfg.windows.map((w) => [w, { hash: hashString(w), knobs: { ...base, ...cfg.overrides?.[w] } }]),
  );
}

/** Folds one injected decision into a per-CPU digest, for checking that a seed replays. */
export function digestStep(
  digest: number,
  windowHash: number,
  occurrence: number,
  d: JitterDecision,
): number {
  const amount = d.kind === 'delay' ? d.spins : d.kind === 'yield' ? d.us : 0;
  return combine(digest, windowHash, occurrence, d.kind === 'delay' ? 1 : 2, amount);
}
