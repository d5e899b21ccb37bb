// --record on the command line: which free runs are recorded and replayed, and the text report.

import type { VerdictRow } from '../report/verdict.js';
import { DEFAULT_RECORD_CAP, type RecordSummary } from '../scenarios/record_replay.js';
import { UsageError } from './args.js';
import { replayCommand } from './replay_command.js';

export interface RecordFlags {
  record?: boolean;
  recordMax?: number;
}

/**
 * How many failing free runs to record and replay (0: no --record). --record records free-mode
 * runs, so it cannot go with controlled mode (--mode controlled, --strategy, --replay).
 */
export function recordCapOf(o: RecordFlags, mode: 'free' | 'controlled'): number {
  if (!o.record) {
    if (o.recordMax !== undefined) throw new UsageError('--record-max needs --record');
    return 0;
  }
  if (mode !== 'free') {
    throw new UsageError('--record records free-mode runs: it cannot be combined with controlled mode');
  }
  return o.recordMax ?? DEFAULT_RECORD_CAP;
}

/** The text report of one row's --record replays. */
export function recordLines(
  r: VerdictRow & { record?: RecordSummary },
  command?: string,
  noLockdep = false,
): string[] {
  const rec = r.record;
  if (!rec) return [];
  const out = [''];
  if (rec.replays === 0) {
    out.push(`${r.id} ${r.variant}: recorded ${r.runs} free runs; none failed, nothing to replay`);
    return out;
  }
  for (const x of rec.runs.slice(0, 1)) {
    const verdict = !x.replayed
      ? `the replay did not finish (${x.error})`
      : x.sameReport
        ? `reproduced (same report: ${x.replayFailure})`
        : x.reproduced
          ? `reproduced (same kind of report: ${x.replayFailure})`
          : `did not reproduce (${x.replayFailure ? `the replay failed differently: ${x.replayFailure}` : 'the replay ran clean'})`;
    out.push(`--- recorded free run ${x.run}: replayed in controlled mode: ${verdict}`);
    out.push(`    the free run: ${x.failure}`);
    if (x.stats) {
      const st = x.stats;
      out.push(
        `    ${x.events} events recorded${x.truncated ? ' (truncated)' : ''}; ${st.decisions} decisions: ` +
          `${st.followed} followed the recording, ${st.divergences} diverged, ${st.pastEnd} past its end`,
      );
    }
    // The schedule string, inside the command that replays it exactly.
    if (x.schedule) out.push(`    replay it: ${replayCommand(r, x.schedule, command, noLockdep)}`);
  }
  const beyond =
    rec.failures > rec.replays ? ` (the first ${rec.replays} of ${rec.failures} failing runs)` : '';
  out.push(
    `${r.id} ${r.variant}: --record: reproduced ${rec.reproducedRuns} of ${rec.replays} recorded failures` +
      `${beyond} in controlled mode, ${rec.sameReportRuns} with the same report`,
  );
  return out;
}
