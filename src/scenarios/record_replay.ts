// --record: a free campaign records the global order of its CPUs' points (cpu/record.ts); every
// failing run's order (up to a cap) is replayed in controlled mode by the follow strategy
// (cpu/strategies/follow.ts), and the replay's failure is compared with the free run's.
//
// "Same", defined:
// - A failure is the run's first detector line (isDetectorLine, as grading uses it: BUG, WARNING,
//   Oops...), or, when no detector fired, the first final check that failed.
// - `sameReport`: the two first detector lines are equal once every address and number is
//   masked (hex words with a digit become <addr>, decimal numbers <n>: pids, CPUs, addresses,
//   counter values, seconds); for a failed check, the same check failed with the same masked
//   detail.
// - `reproduced`: the replay failed with the same kind of report: the same KASAN bug type
//   ("BUG: KASAN: slab-use-after-free", whatever the function), the same BUG/INFO title without
//   its details ("BUG: Bad rss-counter state", "BUG: Bad page map", "INFO: task"), the same
//   WARNING site, an Oops for an Oops, or the same failed final check. sameReport implies it.
//   A free run's hung-task report ("INFO: task ... blocked for more than N seconds") and a
//   controlled run's deadlock stop ("INFO: deadlock: no CPU can run") are the same kind: tasks
//   blocked for good (controlled mode stops as soon as no CPU can run, before khungtaskd looks).
// A replay that fails differently is neither; its failure is reported as `replayFailure`.

import { crashLine } from '../cpu/crash.js';
import type { Machine } from '../cpu/machine.js';
import { encodeSchedule } from '../cpu/schedule.js';
import type { FollowOptions, FollowStats, FollowStrategy } from '../cpu/strategies/follow.js';
import { type FailedRecording, runVariant, scenarioUrl, type VariantResult } from './campaign.js';
import type { Scenario, Variant } from './scenario.js';

/** Failing runs replayed by default (--record). */
export const DEFAULT_RECORD_CAP = 20;

export interface ReplayOutcome {
  /** The controlled run finished (no crash, hang or stop). */
  replayed: boolean;
  reproduced: boolean;
  sameReport: boolean;
  /** The replay's schedule string: `mmrace replay <id> '<schedule>'` runs it again exactly. */
  schedule: string | null;
  /** The replay's failure (first detector line, or "check '<name>': <detail>"), null when clean. */
  replayFailure: string | null;
  /** Decisions where the CPU the recording runs next was not runnable (see follow.ts). */
  divergences: number;
  stats: FollowStats | null;
  /** Why the replay did not finish. */
  error: string | null;
}

export interface RecordedReplay extends ReplayOutcome {
  /** The free run. */
  run: number;
  seed: number;
  /** Recorded events (points, wake-ups, spin starts) and whether a buffer overflowed. */
  events: number;
  truncated: boolean;
  /** The free run's failure, as replayFailure describes the replay's. */
  failure: string;
}

export interface RecordSummary {
  /** The first failing free run's replay (null: no free run failed). */
  run: number | null;
  events: number;
  replayed: boolean;
  reproduced: boolean;
  sameReport: boolean;
  schedule: string | null;
  /** Failing free runs, how many were replayed (at most `cap`), reproduced, with the same report. */
  failures: number;
  cap: number;
  replays: number;
  reproducedRuns: number;
  sameReportRuns: number;
  /** Every replay, in run order. */
  runs: RecordedReplay[];
}

const BLOCKED = 'tasks blocked for good (hung task or deadlock)';

/** Masks addresses and numbers: what stays is the report's text. */
export function normalizeReport(line: string): string {
  return line
    .trim()
    .replace(/\b(?:0x)?(?=[0-9a-f]*\d)[0-9a-f]{4,}\b/gi, '<addr>')
    .replace(/\d+/g, '<n>')
    .replace(/\s+/g, ' ');
}

/** The kind of a detector line (see the header comment). */
export function reportKind(line: string): string {
  const n = normalizeReport(line);
  const kasan = /^BUG: KASAN: \S+/.exec(n);
  if (kasan) return kasan[0];
  if (/^Oops\b/.test(n)) return 'Oops';
  if (/^INFO: task \S+ blocked for more than/.test(n) || /^INFO: deadlock\b/.test(n)) return BLOCKED;
  const warn = /^WARNING: CPU: \S+ PID: \S+ at (.*)$/.exec(n);
  if (warn) return `WARNING at ${warn[1]}`;
  if (/^kernel BUG at /.test(n)) return n;
  const words: string[] = [];
  for (const w of n.replace(/,.*$/, '').split(' ')) {
    if (['in', 'at', 'for', 'from', 'on'].includes(w) && words.length > 1) break;
    if (/\w:\S/.test(w) || w.includes('<')) break;
    words.push(w);
  }
  return words.join(' ');
}

interface Failure {
  hit: string | null;
  check: { name: string; detail: string } | null;
}

function describe(f: Failure): string {
  return f.hit ?? (f.check ? `check '${f.check.name}': ${f.check.detail}` : 'none');
}

function kindOf(f: Failure): string {
  return f.hit !== null ? reportKind(f.hit) : `check '${f.check?.name}'`;
}

function sameText(a: Failure, b: Failure): boolean {
  if (a.hit !== null || b.hit !== null) {
    return a.hit !== null && b.hit !== null && normalizeReport(a.hit) === normalizeReport(b.hit);
  }
  return (
    a.check?.name === b.check?.name &&
    normalizeReport(a.check?.detail ?? '') === normalizeReport(b.check?.detail ?? '')
  );
}

/** One controlled run that follows `rec`'s recorded order; compares its failure with the free run's. */
export async function replayRecorded(
  machine: Machine,
  s: Scenario,
  variant: Variant,
  rec: FailedRecording,
  moduleUrl = scenarioUrl(s),
  follow: FollowOptions = {},
): Promise<ReplayOutcome> {
  let followed: FollowStrategy | null = null;
  const r = await runVariant(
    machine,
    s,
    variant,
    {
      runs: 1,
      seed: rec.seed,
      mode: 'controlled',
      strategy: {
        name: 'follow',
        recorded: rec.recording.events,
        follow: {
          ...follow,
          onEnd: (f) => {
            followed = f;
          },
        },
      },
    },
    moduleUrl,
  );
  const f = followed as FollowStrategy | null;
  const error = r.crash ? crashLine(r.crash).split('\n')[0]! : (r.hang ?? null);
  const replay = replayFailureOf(r);
  const failed = replay !== null;
  const recorded: Failure = { hit: rec.hit, check: rec.check };
  const sameReport = failed && sameText(recorded, replay);
  return {
    replayed: error === null && r.runs === 1,
    reproduced: failed && kindOf(recorded) === kindOf(replay),
    sameReport,
    schedule: f && f.picks.length > 0 ? encodeSchedule({ ncpus: s.cpus.length, picks: f.picks }) : r.schedule,
    replayFailure: failed ? describe(replay) : null,
    divergences: f?.stats.divergences ?? 0,
    stats: f ? { ...f.stats } : null,
    error,
  };
}

function replayFailureOf(r: VariantResult): Failure | null {
  if (r.firstHit) return { hit: r.firstHit.summary, check: null };
  if (r.firstCheckFailure)
    return { hit: null, check: { name: r.firstCheckFailure.check, detail: r.firstCheckFailure.detail } };
  return null;
}

/**
 * The controlled replays of a recorded free campaign's failing runs (`result.recordings`, at most
 * `cap` of them were kept), summed up.
 */
export async function replayRecordings(
  machine: Machine,
  s: Scenario,
  variant: Variant,
  result: VariantResult,
  moduleUrl = scenarioUrl(s),
  cap = DEFAULT_RECORD_CAP,
  follow: FollowOptions = {},
): Promise<RecordSummary> {
  const runs: RecordedReplay[] = [];
  // A crashed or hung campaign's recordings are not replayed: the machine is being torn down.
  const recs = result.crash || result.hang ? [] : (result.recordings ?? []).slice(0, cap);
  for (const rec of recs) {
    const o = await replayRecorded(machine, s, variant, rec, moduleUrl, follow);
    runs.push({
      run: rec.run,
      seed: rec.seed,
      events: rec.recording.events.length,
      truncated: rec.recording.truncated,
      failure: describe(rec),
      ...o,
    });
  }
  const first = runs[0];
  return {
    run: first?.run ?? null,
    events: first?.events ?? 0,
    replayed: first?.replayed ?? false,
    reproduced: first?.reproduced ?? false,
    sameReport: first?.sameReport ?? false,
    schedule: first?.schedule ?? null,
    failures: result.hits + result.checkFailures,
    cap,
    replays: runs.length,
    reproducedRuns: runs.filter((x) => x.reproduced).length,
    sameReportRuns: runs.filter((x) => x.sameReport).length,
    runs,
  };
}
