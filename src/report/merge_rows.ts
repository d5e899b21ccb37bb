// `mmrace merge`: one verdict row from the rows of a campaign's shards (each the same scenario,
// variant and era; given in shard order). Counts add up; the first failing run is the one with
// the lowest seed among the shards, with its schedule; times are the slowest shard's.
import { observedOf } from '../scenarios/symptoms.js';
import type { VerdictRow } from './verdict.js';

/** The seed of a row's first failing run (a hit, a failed final check, an unexpected failure); null: none. */
export function firstFailingSeed(r: VerdictRow): number | null {
  return r.firstHitSeed ?? r.firstCheckFailure?.seed ?? r.firstUnexpected?.seed ?? null;
}

/** The row whose `seed(row)` is lowest (the earliest shard on a tie), or undefined. */
function lowest(
  parts: readonly VerdictRow[],
  seed: (r: VerdictRow) => number | null,
): VerdictRow | undefined {
  let best: VerdictRow | undefined;
  for (const r of parts) {
    const s = seed(r);
    if (s !== null && (best === undefined || s < seed(best)!)) best = r;
  }
  return best;
}

const sum = (parts: readonly VerdictRow[], f: (r: VerdictRow) => number) =>
  parts.reduce((a, r) => a + f(r), 0);
const max = (parts: readonly VerdictRow[], f: (r: VerdictRow) => number) => Math.max(0, ...parts.map(f));

export function mergeRows(parts: readonly VerdictRow[]): VerdictRow {
  const base = parts[0]!;
  const hit = lowest(parts, (r) => r.firstHitSeed);
  const check = lowest(parts, (r) => r.firstCheckFailure?.seed ?? null);
  const first = lowest(parts, firstFailingSeed);
  const failed = parts.find((r) => r.error !== null);
  const diverged = parts.find((r) => r.divergence !== undefined);
  const hits = sum(parts, (r) => r.hits);
  const checkFailures = sum(parts, (r) => r.checkFailures);
  const acceptable = sum(parts, (r) => r.acceptable ?? 0);
  const unexpected = sum(parts, (r) => r.unexpected ?? 0);
  const odd = lowest(parts, (r) => r.firstUnexpected?.seed ?? null);
  const observed = observedOf({ error: Boolean(failed), hits, checkFailures, acceptable, unexpected });
  const { shard: _shard, record: _record, shrink: _shrink, divergence: _divergence, ...common } = base;
  return {
    ...common,
    observed,
    ok: observed === base.expected,
    runs: sum(parts, (r) => r.runs),
    hits,
    checkFailures,
    acceptable,
    unexpected,
    firstUnexpected: odd?.firstUnexpected ?? null,
    explored: sum(parts, (r) => r.explored),
    runsPerSec: Math.round(sum(parts, (r) => r.runsPerSec) * 10) / 10,
    wallMs: max(parts, (r) => r.wallMs),
    runMs: {
      p50: max(parts, (r) => r.runMs.p50),
      p95: max(parts, (r) => r.runMs.p95),
      max: max(parts, (r) => r.runMs.max),
    },
    firstHitSeed: hit?.firstHitSeed ?? null,
    firstHit: hit?.firstHit ?? null,
    firstCheckFailure: check?.firstCheckFailure ?? null,
    error: failed ? `shard ${failed.shard?.index}/${failed.shard?.count}: ${failed.error}` : null,
    ...(diverged ? { divergence: diverged.divergence! } : {}),
    schedule: first?.schedule ?? null,
    shrunkSchedule: first?.shrunkSchedule ?? null,
    ...(first?.shrink ? { shrink: first.shrink } : {}),
    ...(first?.record ? { record: first.record } : {}),
    merged: {
      count: parts.length,
      runs: parts.map((r) => r.runs),
      hits: parts.map((r) => r.hits + r.checkFailures),
      explored: parts.map((r) => r.explored),
    },
  };
}
