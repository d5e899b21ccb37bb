// How a run failed, and the one rule for "fails the same way" that shrinking (shrink.ts), --record's
// replays (record_replay.ts) and the expected-symptom matcher (symptoms.ts) share.
//
// - A failure is the run's first detector line (isDetectorLine, as grading uses it: BUG, WARNING,
//   Oops...), or, when no detector fired, the first final check that failed, written
//   "final check '<name>': <detail>".
// - Two failures are the same when their texts are equal once every address and number is masked
//   (hex words with a digit or of 8+ digits become <addr>, decimal numbers <n>: pids, CPUs,
//   addresses, PTE values, counter values, seconds). `failureSignature` is that masked text.
// - Two failures are of the same kind (`failureKind`) when they are the same KASAN bug type
//   ("BUG: KASAN: slab-use-after-free", whatever the function), the same BUG/INFO title without
//   its details ("BUG: Bad rss-counter state", "BUG: Bad page map", "INFO: task"), the same
//   WARNING site, an Oops for an Oops, or the same failed final check. The same failure implies
//   the same kind. A free run's hung-task report ("INFO: task ... blocked for more than N
//   seconds") and a controlled run's deadlock stop ("INFO: deadlock: no CPU can run") are the same
//   kind: tasks blocked for good (controlled mode stops as soon as no CPU can run, before
//   khungtaskd looks).

import type { VariantResult } from './variant_result.js';

export interface Failure {
  /** The first detector line (or deadlock line, or 'Oops'); null when a final check failed. */
  hit: string | null;
  /** The final check that failed (when no detector fired). */
  check: { name: string; detail: string } | null;
}

const BLOCKED = 'tasks blocked for good (hung task or deadlock)';

/** Masks addresses and numbers: what stays is the report's text. */
export function normalizeReport(line: string): string {
  return line
    .trim()
    .replace(/\b(?:0x)?(?:(?=[0-9a-f]*\d)[0-9a-f]{4,}|[0-9a-f]{8,})\b/gi, '<addr>')
    .replace(/\d+/g, '<n>')
    .replace(/\s+/g, ' ');
}

/** The failure as one line: the detector line, or "final check '<name>': <detail>". */
export function failureText(f: Failure): string {
  if (f.hit !== null) return f.hit;
  return f.check ? `final check '${f.check.name}': ${f.check.detail}` : 'none';
}

/** The failure with addresses and numbers masked: equal signatures fail the same way. */
export function failureSignature(f: Failure): string {
  return normalizeReport(failureText(f));
}

export function sameFailure(a: Failure, b: Failure): boolean {
  return failureSignature(a) === failureSignature(b);
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

export function failureKind(f: Failure): string {
  return f.hit !== null ? reportKind(f.hit) : `final check '${f.check?.name}'`;
}

/** A campaign's first failing run, as a Failure: its first hit, failed check or unexpected failure. */
export function failureOfResult(r: VariantResult): Failure | null {
  if (r.firstHit) return { hit: r.firstHit.summary, check: null };
  if (r.firstCheckFailure)
    return { hit: null, check: { name: r.firstCheckFailure.check, detail: r.firstCheckFailure.detail } };
  return r.firstUnexpected?.failure ?? null;
}
