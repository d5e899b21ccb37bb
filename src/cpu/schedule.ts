// Schedule strings: the CPU picked at every scheduling decision of a controlled run, as versioned
// text. `S1:<ncpus>:<body>` where the body is run-length tokens, a CPU as a letter (a = CPU0 ...
// p = CPU15) followed by how many decisions in a row picked it (omitted when 1): "a120b5ac12".
// Long bodies are deflated: `S1Z:<ncpus>:<base64url of the deflated body>`.
import { deflateRawSync, inflateRawSync } from 'node:zlib';

export const SCHEDULE_VERSION = 'S1';
const MAX_SCHEDULE_CPUS = 16;
const COMPRESS_OVER = 2048;
/**
 * The longest controlled run (decisions) the machine lets go on before stopping it: a schedule
 * longer than this cannot be a run's, so it is refused before it is expanded.
 */
export const MAX_SCHEDULE_DECISIONS = 2_000_000;
/** A deflated body bigger than this after inflating is refused (a run-length body is far smaller). */
const MAX_BODY_CHARS = 16 * MAX_SCHEDULE_DECISIONS;

export class ScheduleError extends Error {}

export interface Schedule {
  ncpus: number;
  /** The CPU picked at each decision, in order. */
  picks: number[];
}

export function encodeSchedule(s: Schedule): string {
  if (!Number.isInteger(s.ncpus) || s.ncpus < 1 || s.ncpus > MAX_SCHEDULE_CPUS) {
    throw new ScheduleError(`schedule: ncpus must be 1..${MAX_SCHEDULE_CPUS}`);
  }
  let body = '';
  for (let i = 0; i < s.picks.length; ) {
    const cpu = s.picks[i]!;
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= s.ncpus)
      throw new ScheduleError(`schedule: bad CPU ${cpu}`);
    let n = 1;
    while (s.picks[i + n] === cpu) n++;
    body += String.fromCharCode(97 + cpu) + (n > 1 ? String(n) : '');
    i += n;
  }
  if (body.length > COMPRESS_OVER) {
    return `${SCHEDULE_VERSION}Z:${s.ncpus}:${deflateRawSync(Buffer.from(body, 'latin1')).toString('base64url')}`;
  }
  return `${SCHEDULE_VERSION}:${s.ncpus}:${body}`;
}

export function decodeSchedule(text: string, maxDecisions = MAX_SCHEDULE_DECISIONS): Schedule {
  const m = /^(S\d+)(Z?):(\d+):([A-Za-z0-9_-]*)$/.exec(text.trim());
  if (!m) throw new ScheduleError(malformed(text));
  const [, version, z, n, payload] = m as unknown as [string, string, string, string, string];
  if (version !== SCHEDULE_VERSION) {
    throw new ScheduleError(
      `schedule version ${version} is not supported (this mmrace reads ${SCHEDULE_VERSION})`,
    );
  }
  const ncpus = Number(n);
  if (ncpus < 1 || ncpus > MAX_SCHEDULE_CPUS) throw new ScheduleError(`schedule: ncpus ${n} is out of range`);
  const body = z ? inflateBody(payload) : payload;
  const runs = tokenize(body, ncpus, maxDecisions);
  const picks: number[] = [];
  for (const [cpu, count] of runs) for (let i = 0; i < count; i++) picks.push(cpu);
  return { ncpus, picks };
}

function malformed(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  return `malformed schedule string '${shown}' (expected 'S1:<ncpus>:<picks>', as a controlled run prints it)`;
}

function inflateBody(payload: string): string {
  try {
    return inflateRawSync(Buffer.from(payload, 'base64url'), { maxOutputLength: MAX_BODY_CHARS }).toString(
      'latin1',
    );
  } catch {
    throw new ScheduleError('schedule: the compressed body is corrupt or too long');
  }
}

/** The body's (cpu, count) runs, checked against the run limit before anything is expanded. */
function tokenize(body: string, ncpus: number, maxDecisions: number): [number, number][] {
  const runs: [number, number][] = [];
  const tok = /([a-p])(\d*)/y;
  let total = 0;
  for (let at = 0; at < body.length; at = tok.lastIndex) {
    tok.lastIndex = at;
    const t = tok.exec(body);
    if (!t) throw new ScheduleError(`schedule: unexpected '${body[at]}' at offset ${at}`);
    const cpu = t[1]!.charCodeAt(0) - 97;
    if (cpu >= ncpus) throw new ScheduleError(`schedule: CPU${cpu} in a ${ncpus}-CPU schedule`);
    const count = t[2] ? Number(t[2]) : 1;
    if (!Number.isSafeInteger(count) || count < 1)
      throw new ScheduleError(`schedule: bad run length at offset ${at}`);
    total += count;
    if (total > maxDecisions) {
      throw new ScheduleError(
        `schedule: longer than the run limit of ${maxDecisions} decisions (at offset ${at})`,
      );
    }
    runs.push([cpu, count]);
  }
  return runs;
}

/** Number of preemptions: decisions that switch away from a CPU that could have gone on. */
export function switches(picks: readonly number[]): number {
  let n = 0;
  for (let i = 1; i < picks.length; i++) if (picks[i] !== picks[i - 1]) n++;
  return n;
}
