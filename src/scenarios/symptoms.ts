// The expected-symptom matcher, jcstress-style: a failing run is `expected` when it shows an
// outcome LKML reported, `acceptable` when it shows another outcome of the same bug, and
// `unexpected` otherwise. A pattern matches when the run's masked failure text contains the
// masked pattern (failure.ts), so 'KASAN: use-after-free in zap_pte_range' matches
// "BUG: KASAN: use-after-free in zap_pte_range" and "final check 'every page freed'" matches
// that check whatever its detail.
import { type Failure, failureSignature, normalizeReport } from './failure.js';
import type { Symptoms, Verdict } from './scenario.js';

export type SymptomClass = 'expected' | 'acceptable' | 'unexpected';

/** What a variant's runs showed, graded: an error, a failure outside the lists, the bug, or none. */
export type Observed = Verdict | 'acceptable' | 'unexpected' | 'error';

export function classifySymptom(symptoms: Symptoms | undefined, f: Failure): SymptomClass {
  if (!symptoms) return 'expected';
  const text = failureSignature(f);
  const shows = (patterns: readonly string[] | undefined) =>
    (patterns ?? []).some((p) => text.includes(normalizeReport(p)));
  if (shows(symptoms.expected)) return 'expected';
  return shows(symptoms.acceptable) ? 'acceptable' : 'unexpected';
}

export interface SymptomCounts {
  error: boolean;
  /** Runs with an expected symptom: detector hits and failed final checks. */
  hits: number;
  checkFailures: number;
  acceptable: number;
  unexpected: number;
}

/**
 * A run failing in no listed way fails the verdict whatever else happened; the bug reproduces only
 * when an expected symptom showed; acceptable ones alone are neither the bug as reported nor clean.
 */
export function observedOf(c: SymptomCounts): Observed {
  if (c.error) return 'error';
  if (c.unexpected > 0) return 'unexpected';
  if (c.hits + c.checkFailures > 0) return 'reproduces';
  return c.acceptable > 0 ? 'acceptable' : 'clean';
}
