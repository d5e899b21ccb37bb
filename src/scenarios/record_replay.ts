// --record: a free campaign records the global order of its CPUs' points (cpu/record.ts); every
// failing run's order (up to a cap) is replayed in controlled mode by the follow strategy
// (cpu/strategies/follow.ts), and the replay's failure is compared with the free run's.
//
// "Same" is failure.ts's rule: `sameReport` is sameFailure (the same text once addresses and
// numbers are masked), `reproduced` the same failureKind. A replay that fails differently is
// neither; its failure is reported as `replayFailure`.

import { crashLine } from '../cpu/crash.js';
import type { Machine } from '../cpu/machine.js';
import { encodeSchedule } from '../cpu/schedule.js';
import type { FollowOptions, FollowStats, FollowStrategy } from '../cpu/strategies/follow.js';
import { type FailedRecording, runVariant, scenarioUrl, type VariantResult } from './campaign.js';
import { type Failure, failureKind, failureOfResult, failureText, sameFailure } from './failure.js';
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
  /** The replay's failure (failure.ts's failureText), null when clean. */
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
  const replay = failureOfResult(r);
  const failed = replay !== null;
  const recorded: Failure = { hit: rec.hit, check: rec.check };
  const sameReport = failed && sameFailure(recorded, replay);
  return {
    replayed: error === null && r.runs === 1,
    reproduced: failed && failureKind(recorded) === failureKind(replay),
    sameReport,
    schedule: f && f.picks.length > 0 ? encodeSchedule({ ncpus: s.cpus.length, picks: f.picks }) : r.schedule,
    replayFailure: failed ? failureText(replay) : null,
    divergences: f?.stats.divergences ?? 0,
    stats: f ? { ...f.stats } : null,
    error,
  };
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
      failure: failureText(rec),
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
