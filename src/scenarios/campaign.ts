// Runs one scenario variant many times on a machine (main-thread side) and grades the outcome,
// jcstress-style: a run "hits" when the kernel printed a detector report (BUG, WARNING, Oops).
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpuCtx } from '../cpu/context.js';
import { AbortReason, CpuState } from '../cpu/control.js';
import type { CpuCrash } from '../cpu/cpu_loop.js';
import { type LogRecord, logRead } from '../cpu/logring.js';
import { Machine, type RunOutcome } from '../cpu/machine.js';
import { type Recording, recordCollect, recordEnable, recordReset } from '../cpu/record.js';
import { encodeSchedule } from '../cpu/schedule.js';
import { DfsStrategy } from '../cpu/strategies/dfs.js';
import { makeStrategy, type StrategyConfig } from '../cpu/strategies/index.js';
import { type TraceSnapshot, traceArm, traceSnapshot } from '../cpu/trace_buffer.js';
import { applyEra, eraByName } from '../eras/index.js';
import { deadlock_report } from '../kernel/deadlock_report.js';
import { kthread_stop } from '../kernel/kthread.js';
import { lockdep_enable, lockdepEnabled } from '../kernel/locking/lockdep_state.js';
import { DEFAULT_PAGES, kernelReset, machineRegions, writeGlobals } from './kernel_image.js';
import type { Globals, Scenario, Variant, Verdict } from './scenario.js';
import { Watchdogs } from './watchdogs.js';

export interface CampaignOptions {
  runs: number;
  seed: number;
  /** Keep going after the first hit (default: yes, to measure the hit rate). */
  stopOnHit?: boolean;
  runTimeoutMs?: number;
  /** free (default): real parallel runs with jitter; controlled: one CPU at a time, `strategy` picks. */
  mode?: 'free' | 'controlled';
  /** Controlled mode's strategy (default random). */
  strategy?: StrategyConfig;
  /** Controlled mode: replay a lockdep-less deadlock with lockdep on for the full report (default yes). */
  deadlockReportWithLockdep?: boolean;
  /** Free mode: khungtaskd's timeout in emulated seconds (default 120, shortened to fit the run timeout). */
  hungTaskTimeoutSecs?: number;
  /** Record per-CPU traces (cpu/trace_buffer.ts); keep the first failing run's, else the last run's. */
  trace?: boolean;
  /**
   * Free mode: record the global order of every run's points (cpu/record.ts) and keep the
   * recordings of the first `record` failing runs in `VariantResult.recordings`.
   */
  record?: number;
}

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

export interface VariantResult {
  id: string;
  variant: string;
  era: string;
  expected: Verdict;
  observed: Verdict | 'error';
  runs: number;
  hits: number;
  checkFailures: number;
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
  mode: 'free' | 'controlled';
  /** Controlled mode: the strategy's name; null in free mode. */
  strategy: string | null;
  /** Controlled mode: the schedule string of the first failing run (null: none failed). */
  schedule: string | null;
  /** Runs done (for dfs: the schedules explored; the campaign ends when dfs has explored them all). */
  explored: number;
  /** With `trace`: the first failing run's recording, else the last run's. */
  trace?: TracedRun;
  /** --record: the recordings of the first failing runs (at most CampaignOptions.record). */
  recordings?: FailedRecording[];
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

/** Lines that are detector reports, as a kernel developer would grep dmesg for them. */
const DETECTOR =
  /^(BUG: |WARNING: |kernel BUG |Oops|INFO: task |general protection fault|possible circular locking)/;

export function isDetectorLine(line: string): boolean {
  return DETECTOR.test(line);
}

export function scenarioUrl(s: Scenario): string {
  return pathToFileURL(fileURLToPath(new URL(`./${s.id}.js`, import.meta.url))).href;
}

let shared: Machine | null = null;

/** The process's machine: created once, its CPU workers reused by every campaign. */
export function sharedMachine(nrPages = DEFAULT_PAGES): Machine {
  shared ??= new Machine(machineRegions(nrPages));
  return shared;
}

export async function shutdownMachine(): Promise<void> {
  const m = shared;
  shared = null;
  if (m) await m.destroy();
}

export async function runVariant(
  machine: Machine,
  s: Scenario,
  variant: Variant,
  opts: CampaignOptions,
  moduleUrl = scenarioUrl(s),
): Promise<VariantResult> {
  const era = eraByName(variant.era);
  if (!era) throw new Error(`scenario ${s.id}: variant ${variant.name} names unknown era '${variant.era}'`);
  const kthreadCpus = s.cpus.flatMap((c, i) => (c.kthread ? [i] : []));
  const mode = opts.mode ?? 'free';
  const recordCap = opts.record ?? 0;
  if (recordCap > 0 && mode !== 'free') throw new Error('recording (--record) is for free mode only');
  const recordings: FailedRecording[] = [];
  const strategy = mode === 'controlled' ? makeStrategy(opts.strategy ?? { name: 'random' }) : undefined;
  let globals: Globals = {};
  const res: VariantResult = {
    id: s.id,
    variant: variant.name,
    era: variant.era,
    expected: variant.expected,
    observed: 'clean',
    runs: 0,
    hits: 0,
    checkFailures: 0,
    runsPerSec: 0,
    seed: opts.seed,
    firstHitSeed: null,
    firstHit: null,
    firstCheckFailure: null,
    wallMs: 0,
    runMs: { p50: 0, p95: 0, max: 0 },
    mode,
    strategy: strategy?.name ?? null,
    schedule: null,
    explored: 0,
  };
  const runTimes: number[] = [];
  let haltReason: string | undefined;
  const runTimeoutMs = opts.runTimeoutMs ?? 20_000;
  const watchdog =
    mode === 'free'
      ? new Watchdogs(runTimeoutMs, s.timeScale ?? 1, s.cpus.length, opts.hungTaskTimeoutSecs)
      : null;
  let traceKept = false; // --trace: a failing run's recording is kept, later runs are not recorded
  const hooks = {
    setup(_run: number) {
      kernelReset();
      applyEra(era);
      globals = {};
      s.setup(globals, variant);
      cpuCtx.current = 0;
      writeGlobals(s.globals, globals);
      watchdog?.reset();
      traceArm(opts.trace === true && !traceKept, mode);
      if (recordCap > 0) recordReset(s.cpus.length);
    },
    tick(_run: number, _elapsedMs: number): boolean {
      watchdog?.tick();
      return false;
    },
    stopKthreads(_run: number) {
      for (const i of kthreadCpus) kthread_stop(globals[s.cpus[i]!.task]!);
    },
    finish(o: RunOutcome): boolean {
      runTimes.push(o.wallMs);
      const { records } = logRead();
      const lines = records.map((r) => r.text);
      const deadlock = o.abort === AbortReason.Deadlock ? (o.report ?? []) : [];
      const hitLine = lines.find(isDetectorLine) ?? deadlock[0];
      const seed = (opts.seed + o.run) >>> 0;
      let failed = false;
      let failedCheck: { name: string; detail: string } | null = null;
      if (hitLine || o.abort === AbortReason.Oops) {
        failed = true;
        if (res.hits === 0 && o.picks)
          res.schedule = encodeSchedule({ ncpus: s.cpus.length, picks: o.picks });
        res.hits++;
        if (!res.firstHit) {
          res.firstHitSeed = seed;
          res.firstHit = {
            run: o.run,
            seed,
            summary: hitLine ?? 'Oops',
            log:
              deadlock.length > 0
                ? [...records, ...deadlock.map((text) => deadlockRecord(text, records.at(-1)?.usec ?? 0))]
                : records,
            jitter: o.cpus.map((c, cpu) => ({ cpu, events: c.jitterEvents, digest: c.jitterDigest })),
          };
        }
      } else if (o.cpus.every((c) => c.state === CpuState.Done)) {
        for (const c of s.checks) {
          const bad = c.check({ dmesg: lines, globals });
          if (bad !== null) {
            failed = true;
            failedCheck = { name: c.name, detail: bad };
            if (res.hits === 0 && res.checkFailures === 0 && o.picks)
              res.schedule = encodeSchedule({ ncpus: s.cpus.length, picks: o.picks });
            res.checkFailures++;
            res.firstCheckFailure ??= { run: o.run, seed, check: c.name, detail: bad };
            break;
          }
        }
      }
      if (failed && recordings.length < recordCap) {
        recordings.push({
          run: o.run,
          seed,
          hit: failedCheck ? null : (hitLine ?? 'Oops'),
          check: failedCheck,
          recording: recordCollect(s.cpus.length),
        });
      }
      if (opts.trace && !traceKept) {
        const check =
          res.firstCheckFailure?.run === o.run ? `final check '${res.firstCheckFailure.check}'` : null;
        res.trace = {
          run: o.run,
          seed,
          failed,
          summary: hitLine ?? (o.abort === AbortReason.Oops ? 'Oops' : check),
          notes: deadlock,
          snapshot: traceSnapshot(s.cpus.length),
        };
        traceKept = failed;
      }
      if (o.abort === AbortReason.Halted) {
        haltReason ??= `run ${o.run}: ${(o.report ?? []).join('; ')}`;
        return false;
      }
      const more = strategy ? strategy.endRun({ steps: o.picks?.length ?? 0, failed }) : true;
      return more && !(opts.stopOnHit && res.hits > 0);
    },
  };
  machine.attach();
  recordEnable(recordCap > 0);
  const r = await machine.campaign(
    {
      entry: new URL('./cpu_entry.js', import.meta.url).href,
      entryArgs: { scenarioUrl: moduleUrl, era: variant.era },
      ncpus: s.cpus.length,
      runs: opts.runs,
      seed: opts.seed,
      jitter: s.jitter,
      timeScale: s.timeScale ?? 1,
      runTimeoutMs,
      kthreadCpus,
      mode,
      ...(strategy ? { strategy } : {}),
      describeDeadlock: (cpus, headline) => {
        machine.attach();
        return deadlock_report(cpus, headline).map((l) =>
          l.replace(/^CPU(\d+):/, (_, c) => `CPU${c} (${s.cpus[+c]?.name}):`),
        );
      },
    },
    hooks,
  );
  if (recordCap > 0) {
    machine.attach();
    recordEnable(false);
  }
  if (opts.trace) {
    machine.attach();
    traceArm(false, mode);
  }
  res.runs = r.runs;
  res.explored = strategy instanceof DfsStrategy ? strategy.explored : r.runs;
  if (recordCap > 0) res.recordings = recordings;
  res.wallMs = r.wallMs;
  res.runsPerSec = r.runs > 0 ? r.runs / (r.wallMs / 1000) : 0;
  runTimes.sort((a, b) => a - b);
  const q = (p: number) =>
    Math.round((runTimes[Math.min(runTimes.length - 1, Math.floor(p * runTimes.length))] ?? 0) * 1000) / 1000;
  res.runMs = { p50: q(0.5), p95: q(0.95), max: q(1) };
  if (r.crash) {
    res.crash = r.crash;
    res.observed = 'error';
  } else if (r.timedOut) {
    res.hang = describeHang(s, r.timedOut);
    res.observed = 'error';
  } else if (haltReason) {
    res.stopped = `controlled run stopped: ${haltReason}`;
    res.observed = 'error';
  } else {
    res.observed = res.hits > 0 || res.checkFailures > 0 ? 'reproduces' : 'clean';
  }
  const fullReport = opts.deadlockReportWithLockdep ?? true;
  if (
    fullReport &&
    mode === 'controlled' &&
    res.schedule &&
    res.firstHit?.summary.startsWith('INFO: deadlock')
  ) {
    await deadlockWithLockdep(machine, s, variant, res.firstHit, res.schedule, moduleUrl);
  }
  return res;
}

/**
 * A deadlock found with lockdep off names only the last reader of an rwsem: replay its schedule
 * once with lockdep on (lockdep adds no scheduling decisions, so the replay is exact) and take that
 * report, which names every holder and every held lock.
 */
async function deadlockWithLockdep(
  machine: Machine,
  s: Scenario,
  variant: Variant,
  hit: RunHit,
  schedule: string,
  moduleUrl: string,
): Promise<void> {
  machine.attach();
  if (lockdepEnabled()) return;
  lockdep_enable(true);
  try {
    const again = await runVariant(
      machine,
      s,
      variant,
      { runs: 1, seed: hit.seed, mode: 'controlled', strategy: { name: 'replay', schedule } },
      moduleUrl,
    );
    // With lockdep on, an AB-BA also gets lockdep's circular-dependency splat first: keep it.
    const log = again.firstHit?.log;
    if (log?.some((r) => r.text === hit.summary)) hit.log = log;
  } finally {
    machine.attach();
    lockdep_enable(false);
  }
}

function deadlockRecord(text: string, usec: number): LogRecord {
  return { seq: 0, cpu: 0, pid: 0, level: 3, usec, text };
}

function describeHang(s: Scenario, o: RunOutcome): string {
  const stuck = o.cpus
    .map((c, i) => (c.state === CpuState.Done ? null : `CPU${i} (${s.cpus[i]?.name})`))
    .filter(Boolean);
  const why = o.report && o.report.length > 0 ? ` (${o.report.join('; ')})` : '';
  return `run ${o.run} did not finish within the run timeout; still running: ${stuck.join(', ') || 'none'}${why}`;
}
