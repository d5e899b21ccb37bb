// The verdict table and its JSON form.
import pc from 'picocolors';
import type { VariantResult } from '../scenarios/campaign.js';
import { failureText } from '../scenarios/failure.js';
import type { RecordSummary } from '../scenarios/record_replay.js';
import type { ShardInfo } from '../scenarios/shard_plan.js';
import type { ShrinkResult } from '../scenarios/shrink.js';
import { crashText } from './crash_text.js';
import { renderDmesg } from './dmesg.js';
import { firstFailingSeed } from './merge_rows.js';

export const JSON_SCHEMA_VERSION = 1;

export interface VerdictRow {
  id: string;
  variant: string;
  era: string;
  expected: string;
  observed: string;
  ok: boolean;
  runs: number;
  hits: number;
  checkFailures: number;
  /** Runs failing with one of the scenario's acceptable symptoms (absent in older JSON: 0). */
  acceptable?: number;
  /** Runs failing in no way the scenario lists; any fails the verdict (absent in older JSON: 0). */
  unexpected?: number;
  /** The first of those: run, seed, its failure (failure.ts's failureText) and schedule. */
  firstUnexpected?: { run: number; seed: number; failure: string; schedule: string | null } | null;
  runsPerSec: number;
  seed: number;
  firstHitSeed: number | null;
  wallMs: number;
  runMs: { p50: number; p95: number; max: number };
  firstHit: { run: number; seed: number; summary: string; dmesg: string[]; jitter: unknown } | null;
  firstCheckFailure: VariantResult['firstCheckFailure'];
  error: string | null;
  /** A lenient replay (--on-divergence random|continue) left its schedule: where and why. */
  divergence?: string;
  mode: 'free' | 'controlled';
  /** Controlled mode's strategy, null in free mode. */
  strategy: string | null;
  /** Scheduling granularity (coarse or atomic). */
  points: 'coarse' | 'atomic';
  /** Controlled mode: the schedule string of the first failing run (replay it with --replay). */
  schedule: string | null;
  /** Runs done; for dfs, the schedules explored. */
  explored: number;
  /** --shrink: the shrunk schedule of the first failing run (null: not asked for, or none failed). */
  shrunkSchedule: string | null;
  /** --shrink: sizes before and after, candidate runs tried, and the strict replay's verdict. */
  shrink?: Omit<ShrinkResult, 'shrunk' | 'original'> & {
    original: { steps: number; switches: number };
    shrunk: { steps: number; switches: number };
  };
  /** --record: the controlled replays of the recorded failing free runs. */
  record?: RecordSummary;
  /** --shard i/n: which part of the campaign this row ran (what `mmrace merge` needs). */
  shard?: ShardInfo;
  /** `mmrace merge`: the shards this row sums, by shard index. */
  merged?: MergedShards;
}

/** A merged row's shards, each list in shard order. */
export interface MergedShards {
  count: number;
  runs: number[];
  hits: number[];
  explored: number[];
}

export function toRow(r: VariantResult): VerdictRow {
  const error = r.crash
    ? crashText(r.crash)
    : r.hang
      ? `hang: ${r.hang}`
      : (r.stopped ?? r.userError ?? null);
  return {
    id: r.id,
    variant: r.variant,
    era: r.era,
    expected: r.expected,
    observed: r.observed,
    ok: r.observed === r.expected,
    runs: r.runs,
    hits: r.hits,
    checkFailures: r.checkFailures,
    acceptable: r.acceptable,
    unexpected: r.unexpected,
    firstUnexpected: r.firstUnexpected && {
      ...r.firstUnexpected,
      failure: failureText(r.firstUnexpected.failure),
    },
    runsPerSec: Math.round(r.runsPerSec * 10) / 10,
    seed: r.seed,
    firstHitSeed: r.firstHitSeed,
    wallMs: Math.round(r.wallMs),
    runMs: r.runMs,
    firstHit: r.firstHit
      ? {
          run: r.firstHit.run,
          seed: r.firstHit.seed,
          summary: r.firstHit.summary,
          dmesg: renderDmesg(r.firstHit.log),
          jitter: r.firstHit.jitter,
        }
      : null,
    firstCheckFailure: r.firstCheckFailure,
    error,
    ...(r.divergence ? { divergence: r.divergence } : {}),
    mode: r.mode,
    strategy: r.strategy,
    points: r.points,
    schedule: r.schedule,
    explored: r.explored,
    shrunkSchedule: null,
  };
}

/** Failing runs with an expected symptom, then any others: "3", "3 (+2 acceptable, 1 unexpected)". */
export function hitsCell(r: VerdictRow): string {
  const more = [
    r.acceptable ? `+${r.acceptable} acceptable` : '',
    r.unexpected ? `${r.unexpected} unexpected` : '',
  ].filter(Boolean);
  const hits = String(r.hits + r.checkFailures);
  return more.length > 0 ? `${hits} (${more.join(', ')})` : hits;
}

/** The first unexpected failure of a row, for the lines under a table. */
export function unexpectedLines(r: VerdictRow, label: string): string[] {
  const u = r.firstUnexpected;
  if (!u) return [];
  return [
    '',
    `--- ${label}: ${r.unexpected} run(s) failed in no way the scenario lists (its symptoms); the first, run ${u.run} (seed ${u.seed}): ${u.failure}`,
  ];
}

function pad(s: string, n: number): string {
  return s + ' '.repeat(Math.max(0, n - s.length));
}

export function renderTable(rows: readonly VerdictRow[], color: boolean): string {
  const c = color ? pc : pc.createColors(false);
  const head = [
    'scenario',
    'variant',
    'expected',
    'observed',
    'hits/runs',
    'first failing seed',
    'runs/s',
    'time',
  ];
  const body = rows.map((r) => [
    r.id,
    r.variant,
    r.expected,
    r.observed,
    `${hitsCell(r)}/${r.runs}`,
    String(firstFailingSeed(r) ?? '-'),
    String(Math.round(r.runsPerSec)),
    `${(r.wallMs / 1000).toFixed(2)}s`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((x, i) => pad(x, widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [c.bold(line(head))];
  rows.forEach((r, i) => {
    const text = line(body[i]!);
    out.push(r.ok ? text : c.red(text));
  });
  return out.join('\n');
}
