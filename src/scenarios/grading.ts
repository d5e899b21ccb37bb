// jcstress-style grading of one run: it failed when the kernel printed a detector report (BUG,
// WARNING, Oops, a hung task), a task oopsed, or (every CPU having finished) a final check failed.
import { AbortReason, CpuState } from '../cpu/control.js';
import { logRead } from '../cpu/logring.js';
import type { RunOutcome } from '../cpu/machine.js';
import { encodeSchedule } from '../cpu/schedule.js';
import type { Failure } from './failure.js';
import type { RunObserver, RunView } from './run_observer.js';
import type { Globals, Scenario } from './scenario.js';
import { classifySymptom } from './symptoms.js';
import { callScenarioCode } from './user_code.js';
import type { VariantResult } from './variant_result.js';

/** Lines that are detector reports, as a kernel developer would grep dmesg for them. */
const DETECTOR =
  /^(BUG: |WARNING: |kernel BUG |Oops|INFO: task |general protection fault|possible circular locking)/;

export function isDetectorLine(line: string): boolean {
  return DETECTOR.test(line);
}

/** Reads the run's log and runs the final checks (a check that throws is the scenario's error). */
export function gradeRun(s: Scenario, o: RunOutcome, seed: number, globals: Globals): RunView {
  const { records } = logRead();
  const lines = records.map((r) => r.text);
  const deadlock = o.abort === AbortReason.Deadlock ? (o.report ?? []) : [];
  const hitLine = lines.find(isDetectorLine) ?? deadlock[0];
  const view: RunView = { outcome: o, seed, records, deadlock, hitLine, failed: false, failedCheck: null };
  if (hitLine || o.abort === AbortReason.Oops) view.failed = true;
  else if (o.cpus.every((c) => c.state === CpuState.Done)) {
    for (const c of s.checks) {
      const bad = callScenarioCode(`final check '${c.name}'`, () => c.check({ dmesg: lines, globals }));
      if (bad !== null) {
        view.failed = true;
        view.failedCheck = { name: c.name, detail: bad };
        break;
      }
    }
  }
  return view;
}

/**
 * Counts hits and failed checks into the result; keeps the first of each and its schedule. With the
 * scenario's symptoms, a run failing with an acceptable one is only counted, and one failing in no
 * listed way is counted and kept as unexpected (symptoms.ts).
 */
export function gradingObserver(s: Scenario, res: VariantResult): RunObserver {
  return {
    afterRun(v) {
      if (!v.failed) return;
      const failure: Failure = { hit: v.failedCheck ? null : (v.hitLine ?? 'Oops'), check: v.failedCheck };
      const kind = classifySymptom(s.symptoms, failure);
      if (kind === 'expected') countExpected(s, res, v);
      else if (kind === 'acceptable') res.acceptable++;
      else if (res.unexpected++ === 0)
        res.firstUnexpected = { run: v.outcome.run, seed: v.seed, failure, schedule: scheduleOf(s, v) };
    },
  };
}

function scheduleOf(s: Scenario, v: RunView): string | null {
  const picks = v.outcome.picks;
  return picks ? encodeSchedule({ ncpus: s.cpus.length, picks }) : null;
}

function countExpected(s: Scenario, res: VariantResult, v: RunView): void {
  const o = v.outcome;
  // The schedule printed is the first hit's; a failed check's only while no detector fired.
  const first = v.failedCheck ? res.hits === 0 && res.checkFailures === 0 : res.hits === 0;
  if (first && o.picks) res.schedule = scheduleOf(s, v);
  if (v.failedCheck) {
    res.checkFailures++;
    res.firstCheckFailure ??= {
      run: o.run,
      seed: v.seed,
      check: v.failedCheck.name,
      detail: v.failedCheck.detail,
    };
    return;
  }
  res.hits++;
  if (res.firstHit) return;
  res.firstHitSeed = v.seed;
  const usec = v.records.at(-1)?.usec ?? 0;
  res.firstHit = {
    run: o.run,
    seed: v.seed,
    summary: v.hitLine ?? 'Oops',
    log: [...v.records, ...v.deadlock.map((text) => ({ seq: 0, cpu: 0, pid: 0, level: 3, usec, text }))],
    jitter: o.cpus.map((c, cpu) => ({ cpu, events: c.jitterEvents, digest: c.jitterDigest })),
  };
}
