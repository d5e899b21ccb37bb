// The command line that replays a schedule: `mmrace replay <id>` for a built-in scenario,
// `mmrace run <file> --replay` for a user's scenario file (whose id `replay` cannot find).
import type { VerdictRow } from '../report/verdict.js';

export function replayCommand(r: VerdictRow, schedule: string, command?: string): string {
  const how = command ? `${command} --replay` : `mmrace replay ${r.id}`;
  const points = r.points === 'atomic' ? ' --points atomic' : '';
  return `${how} '${schedule}' --variant ${r.variant}${points}`;
}
