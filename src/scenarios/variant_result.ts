// What one variant's campaign produced: counts, the first failing run, timings and the mode's
// extras. The campaign loop fills it through its observers; reports only read it.
import type { CpuCrash } from '../cpu/cpu_loop.js';
import type { LogRecord } from '../cpu/logring.js';
import type { CampaignResult } from '../cpu/machine.js';
import type { Recording } from '../cpu/record.js';
import type { TraceSnapshot } from '../cpu/trace_buffer.js';
import type { Failure } from './failure.js';
import type { Scenario, Variant, Verdict } from './scenario.js';
import type { Observed } from './symptoms.js';

/** A failing free run and its recording (--record). */
export interface FailedRecording {
  run: number;
  seed: number;
  /** The first detector line (or deadlock line, or 'Oops'); for a failed final check, null. */
  hit: string | null;
  /** The final check that failed (when no detector fired). */
  check: { name: string; detail: string } | null;
  recording: Recording;
}

export interface RunHit {
  run: number;
  seed: number;
  summary: string;
  log: LogRecord[];
  jitter: { cpu: number; events: number; digest: number }[];
}

/** One traced run (--trace): report/trace.ts turns it into a Chrome trace. */
export interface TracedRun {
  run: number;
  seed: number;
  failed: boolean;
  /** The first detector line, 'Oops', or the final check that failed; null for a clean run. */
  summary: string | null;
  /** The deadlock report, when the run stopped on one (it is not printk output). */
  notes: string[];
  snapshot: TraceSnapshot;
}

export interface VariantResult {
  id: string;
  variant: string;
  era: string;
  expected: Verdict;
  observed: Observed;
  runs: number;
  /** Runs that showed an expected symptom (all failing runs when the scenario lists none). */
  hits: number;
  checkFailures: number;
  /** Runs that failed with one of the scenario's acceptable symptoms. */
  acceptable: number;
  /** Runs that failed in no way the scenario lists: each fails the verdict. */
  unexpected: number;
  /** The first of those, with its schedule in controlled mode. */
  firstUnexpected: { run: number; seed: number; failure: Failure; schedule: string | null } | null;
  runsPerSec: number;
  seed: number;
  firstHitSeed: number | null;
  firstHit: RunHit | null;
  firstCheckFailure: { run: number; seed: number; check: string; detail: string } | null;
  wallMs: number;
  /** Wall time of one run (ms): median, 95th percentile, slowest. */
  runMs: { p50: number; p95: number; max: number };
  crash?: CpuCrash;
  hang?: string;
  /** Controlled mode: why the decider stopped a run (a schedule divergence, the step limit). */
  stopped?: string;
  /** A lenient replay left its schedule (the first run that did, and why). */
  divergence?: string;
  /** The scenario's own code (a final check) threw during the runs: what and where. */
  userError?: string;
  mode: 'free' | 'controlled';
  /** Controlled mode: the strategy's name; null in free mode. */
  strategy: string | null;
  /** Scheduling granularity: a schedule replays only at the granularity it was found at. */
  points: 'coarse' | 'atomic';
  /** Controlled mode: the schedule string of the first failing run (null: none failed). */
  schedule: string | null;
  /** Runs done (for dfs: the schedules explored; the campaign ends when dfs has explored them all). */
  explored: number;
  /** With `trace`: the first failing run's recording, else the last run's. */
  trace?: TracedRun;
  /** --record: the recordings of the first failing runs (at most CampaignOptions.record). */
  recordings?: FailedRecording[];
}

export function newResult(
  s: Scenario,
  variant: Variant,
  seed: number,
  mode: 'free' | 'controlled',
  strategy: string | null,
): VariantResult {
  return {
    id: s.id,
    variant: variant.name,
    era: variant.era,
    expected: variant.expected,
    observed: 'clean',
    runs: 0,
    hits: 0,
    checkFailures: 0,
    acceptable: 0,
    unexpected: 0,
    firstUnexpected: null,
    runsPerSec: 0,
    seed,
    firstHitSeed: null,
    firstHit: null,
    firstCheckFailure: null,
    wallMs: 0,
    runMs: { p50: 0, p95: 0, max: 0 },
    mode,
    strategy,
    points: 'coarse',
    schedule: null,
    explored: 0,
  };
}

/** Run count, rates and run-time quantiles from the machine's campaign result. */
export function timeResult(res: VariantResult, r: CampaignResult, runTimes: number[]): void {
  res.runs = r.runs;
  res.wallMs = r.wallMs;
  res.runsPerSec = r.runs > 0 ? r.runs / (r.wallMs / 1000) : 0;
  const sorted = [...runTimes].sort((a, b) => a - b);
  const q = (p: number) =>
    Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0) * 1000) / 1000;
  res.runMs = { p50: q(0.5), p95: q(0.95), max: q(1) };
}
