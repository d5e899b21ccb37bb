// Seeded jitter at named race windows (free mode). A decision is a pure function of
// (run seed, cpu, window, occurrence), so the same seed injects the same jitter.
import { combine, hashString } from './prng.js';

export interface JitterConfig {
  /** Names of the points where jitter may be injected. */
  readonly windows: readonly string[];
  /** Chance of injecting anything at one pass through a window. */
  readonly probability: number;
  /** Per-window chances that override `probability`. */
  readonly windowProbability?: Readonly<Record<string, number>>;
  /** Largest busy delay, in spin iterations (one iteration is one Atomics.load, about 20 ns). */
  readonly maxSpin: number;
  /** Share of injections that yield the host thread instead of spinning. */
  readonly yieldShare: number;
  /** Longest yield, in microseconds. */
  readonly maxYieldUs: number;
}

export const NO_JITTER: JitterConfig = { windows: [], probability: 0, maxSpin: 0, yieldShare: 0, maxYieldUs: 0 };

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
  probability = cfg.probability,
): JitterDecision {
  const h = combine(seed, cpu, windowHash, occurrence);
  const u = (h & 0xffff) / 0x10000;
  if (u >= probability) return NONE;
  const v = (h >>> 16) / 0x10000;
  if (v < cfg.yieldShare) return { kind: 'yield', us: 1 + Math.floor(((h >>> 3) & 0xfff) / 0x1000 * cfg.maxYieldUs) };
  return { kind: 'delay', spins: Math.floor((((h >>> 4) & 0xffff) / 0x10000) * cfg.maxSpin) };
}

export interface WindowInfo {
  readonly hash: number;
  readonly probability: number;
}

export function windowTable(cfg: JitterConfig): Map<string, WindowInfo> {
  return new Map(
    cfg.windows.map((w) => [w, { hash: hashString(w), probability: cfg.windowProbability?.[w] ?? cfg.probability }]),
  );
}

/** Folds one injected decision into a per-CPU digest, for checking that a seed replays. */
export function digestStep(digest: number, windowHash: number, occurrence: number, d: JitterDecision): number {
  const amount = d.kind === 'delay' ? d.spins : d.kind === 'yield' ? d.us : 0;
  return combine(digest, windowHash, occurrence, d.kind === 'delay' ? 1 : 2, amount);
}
