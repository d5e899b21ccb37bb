// The command line that replays a schedule: `mmrace replay <id>` for a built-in scenario,
// `mmrace run <file> --replay` for a user's scenario file (whose id `replay` cannot find).
import type { VerdictRow } from '../report/verdict.js';

/**
 * `noLockdep`: the schedule was run without lockdep (--no-lockdep, or a free campaign's recording
 * replayed without --lockdep), so the command says --no-lockdep: a replay has lockdep on by default,
 * and a lockdep report could then come before the failure being replayed.
 */
export function replayCommand(r: VerdictRow, schedule: string, command?: string, noLockdep = false): string {
  const how = command ? `${command} --replay` : `mmrace replay ${r.id}`;
  const points = r.points === 'atomic' ? ' --points atomic' : '';
  return `${how} '${schedule}' --variant ${r.variant}${points}${noLockdep ? ' --no-lockdep' : ''}`;
}
