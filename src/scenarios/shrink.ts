// Shrinking a failing controlled-mode schedule: find a smaller one that fails the same way, fewer
// context switches first, then fewer decisions. A candidate cuts the schedule at a switch (the run
// then goes on without preempting) or drops one CPU's stretch; it is run with a lenient replay
// (what no longer fits runs non-preemptively), and the run's own picks become the new schedule
// when it failed the same way and is smaller. The result is re-verified by a strict replay.

import type { PointGranularity } from '../cpu/granularity.js';
import type { Machine } from '../cpu/machine.js';
import { decodeSchedule, encodeSchedule, switches } from '../cpu/schedule.js';
import { runVariant, type VariantResult } from './campaign.js';
import { failureOfResult, failureSignature } from './failure.js';
import type { Scenario, Variant } from './scenario.js';

export interface ShrinkResult {
  original: { schedule: string; steps: number; switches: number };
  shrunk: { schedule: string; steps: number; switches: number };
  /** Candidate runs tried. */
  tries: number;
  /** A strict replay of the shrunk schedule failed the same way. */
  verified: boolean;
}

/** How the campaign's first failing run failed, masked (failure.ts): "the same way" is equal signatures. */
export function resultSignature(r: VariantResult): string | null {
  const f = failureOfResult(r);
  return f ? failureSignature(f) : null;
}

/** Smaller by (switches, steps), lexicographically. */
function smaller(a: readonly number[], b: readonly number[]): boolean {
  const sa = switches(a);
  const sb = switches(b);
  return sa < sb || (sa === sb && a.length < b.length);
}

/** Cut points and dropped stretches, latest first (cutting late keeps most of what fails). */
function candidates(picks: readonly number[]): number[][] {
  const starts: number[] = [];
  for (let i = 1; i < picks.length; i++) if (picks[i] !== picks[i - 1]) starts.push(i);
  const out: number[][] = [];
  for (let k = starts.length - 1; k >= 0; k--) {
    const at = starts[k]!;
    const end = starts[k + 1] ?? picks.length;
    out.push(picks.slice(0, at));
    out.push([...picks.slice(0, at), ...picks.slice(end)]);
    if (end - at > 1) out.push([...picks.slice(0, at), ...picks.slice(at + ((end - at) >> 1))]);
  }
  return out;
}

export async function shrinkSchedule(
  machine: Machine,
  s: Scenario,
  variant: Variant,
  schedule: string,
  seed: number,
  moduleUrl: string,
  maxTries = 300,
  points: PointGranularity = 'coarse',
): Promise<ShrinkResult> {
  const ncpus = s.cpus.length;
  const run = (text: string, onDivergence: 'stop' | 'continue') =>
    runVariant(
      machine,
      s,
      variant,
      {
        runs: 1,
        seed,
        mode: 'controlled',
        strategy: { name: 'replay', schedule: text, onDivergence },
        replayForReport: false,
        points,
      },
      moduleUrl,
    );
  const first = await run(schedule, 'stop');
  const want = resultSignature(first);
  let best = decodeSchedule(schedule).picks;
  const original = { schedule, steps: best.length, switches: switches(best) };
  let tries = 0;
  if (want === null) return { original, shrunk: original, tries, verified: false };
  for (let improved = true; improved && tries < maxTries; ) {
    improved = false;
    for (const cand of candidates(best)) {
      if (tries >= maxTries) break;
      tries++;
      const r = await run(encodeSchedule({ ncpus, picks: cand }), 'continue');
      if (!r.schedule || resultSignature(r) !== want) continue;
      const picks = decodeSchedule(r.schedule).picks;
      if (!smaller(picks, best)) continue;
      best = picks;
      improved = true;
      break;
    }
  }
  const text = encodeSchedule({ ncpus, picks: best });
  const check = await run(text, 'stop');
  return {
    original,
    shrunk: { schedule: text, steps: best.length, switches: switches(best) },
    tries,
    verified: resultSignature(check) === want && check.schedule === text,
  };
}
