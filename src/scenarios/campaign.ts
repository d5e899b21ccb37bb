// Runs one scenario variant many times on a machine (main-thread side). The loop is the
// machine's; each feature of a campaign is an observer in its own file: grading (grading.ts),
// recording (record_observer.ts), traces (trace_observer.ts), the watchdogs (watchdogs.ts); a
// deadlock is replayed with lockdep on for its full report (deadlock_replay.ts).
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpuCtx } from '../cpu/context.js';
import { AbortReason, CpuState } from '../cpu/control.js';
import type { PointGranularity } from '../cpu/granularity.js';
import {
  type CampaignHooks,
  type CampaignResult,
  type CampaignSpec,
  Machine,
  type RunOutcome,
} from '../cpu/machine.js';
import { DfsStrategy } from '../cpu/strategies/dfs.js';
import { makeStrategy, type StrategyConfig } from '../cpu/strategies/index.js';
import { ReplayStrategy } from '../cpu/strategies/replay.js';
import type { Shard } from '../cpu/strategies/shard.js';
import type { Strategy } from '../cpu/strategy.js';
import { applyEra, type EraProfile, eraByName } from '../eras/index.js';
import { deadlock_report } from '../kernel/deadlock_report.js';
import { kthread_stop } from '../kernel/kthread.js';
import { deadlockWithLockdep, wantsDeadlockReplay } from './deadlock_replay.js';
import { gradeRun, gradingObserver } from './grading.js';
import { DEFAULT_PAGES, kernelReset, machineRegions, writeGlobals } from './kernel_image.js';
import { recordObserver } from './record_observer.js';
import type { RunObserver, RunView } from './run_observer.js';
import type { Globals, Scenario, Variant } from './scenario.js';
import { runPlan, type ShardPhase, shardPlan } from './shard_plan.js';
import { traceObserver } from './trace_observer.js';
import { callScenarioCode, ScenarioCodeError } from './user_code.js';
import { type FailedRecording, newResult, timeResult, type VariantResult } from './variant_result.js';
import { Watchdogs } from './watchdogs.js';

export { isDetectorLine } from './grading.js';
export type { FailedRecording, RunHit, TracedRun, VariantResult } from './variant_result.js';

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
  /** Scheduling granularity (cpu/granularity.ts): coarse (default) or atomic. */
  points?: PointGranularity;
  /** Run only this shard of the campaign (shard_plan.ts); run indices and seeds stay the unsharded ones. */
  shard?: Shard;
  /**
   * Controlled mode: who makes the scheduling decisions (cpu/controlled.ts). 'cpus' (the default)
   * for every built-in strategy; 'main' makes the main thread decide every time, as before the
   * CPUs could: the same schedules, two handoffs per switch (for comparison; MMRACE_DECIDE=main).
   */
  decisionsOn?: 'cpus' | 'main';
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

/** The run's initial state: a fresh kernel of the variant's era, then the scenario's setup. */
function setupRun(s: Scenario, variant: Variant, era: EraProfile, run?: number): Globals {
  kernelReset();
  applyEra(era);
  const globals: Globals = {};
  const where = `scenario ${s.id} (variant ${variant.name}): setup${run === undefined ? '' : ` of run ${run}`}`;
  callScenarioCode(where, () => s.setup(globals, variant));
  cpuCtx.current = 0;
  writeGlobals(s.globals, globals);
  return globals;
}

function observersOf(
  s: Scenario,
  res: VariantResult,
  opts: CampaignOptions,
  recordings: FailedRecording[],
): RunObserver[] {
  const mode = res.mode;
  const obs = [gradingObserver(s, res)];
  if (mode === 'free') {
    const w = new Watchdogs(
      opts.runTimeoutMs ?? 20_000,
      s.timeScale ?? 1,
      s.cpus.length,
      opts.hungTaskTimeoutSecs,
    );
    obs.push({ beforeRun: () => w.reset(), tick: () => w.tick() });
  }
  if (opts.trace) obs.push(traceObserver(s.cpus.length, mode, res));
  if ((opts.record ?? 0) > 0) obs.push(recordObserver(s.cpus.length, opts.record!, recordings));
  return obs;
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
  const mode = opts.mode ?? 'free';
  if ((opts.record ?? 0) > 0 && mode !== 'free')
    throw new Error('recording (--record) is for free mode only');
  const strategy = mode === 'controlled' ? makeStrategy(strategyConfigOf(opts)) : undefined;
  const res = newResult(s, variant, opts.seed, mode, strategy?.name ?? null);
  res.points = opts.points ?? 'coarse';
  machine.attach();
  setupRun(s, variant, era); // the scenario's setup errors surface here, before any CPU runs
  const recordings: FailedRecording[] = [];
  const obs = observersOf(s, res, opts, recordings);
  const runTimes: number[] = [];
  const kthreadCpus = s.cpus.flatMap((c, i) => (c.kthread ? [i] : []));
  let globals: Globals = {};
  let halt: string | undefined;
  const phase: ShardPhase = { offset: 0, probing: false, more: true };
  const hooks: CampaignHooks = {
    setup(run) {
      globals = setupRun(s, variant, era, run + phase.offset);
      if (!phase.probing) for (const o of obs) o.beforeRun?.(run + phase.offset);
    },
    tick() {
      for (const o of obs) o.tick?.();
      return false;
    },
    stopKthreads() {
      for (const i of kthreadCpus) kthread_stop(globals[s.cpus[i]!.task]!);
    },
    finish(machineRun) {
      const o = { ...machineRun, run: machineRun.run + phase.offset };
      if (phase.probing) {
        if (o.abort === AbortReason.Halted) halt ??= `run ${o.run}: ${(o.report ?? []).join('; ')}`;
        phase.more = strategy!.endRun({ steps: o.picks?.length ?? 0, failed: false }) && !halt;
        return false;
      }
      runTimes.push(o.wallMs);
      const view = gradeOrNote(s, o, (opts.seed + o.run) >>> 0, globals, res);
      if (!view) return false;
      for (const ob of obs) ob.afterRun?.(view);
      if (strategy instanceof ReplayStrategy && strategy.diverged)
        res.divergence ??= `run ${o.run} left the schedule: ${strategy.diverged}`;
      if (o.abort === AbortReason.Halted) {
        halt ??= `run ${o.run}: ${(o.report ?? []).join('; ')}`;
        return false;
      }
      phase.more = strategy ? strategy.endRun({ steps: o.picks?.length ?? 0, failed: view.failed }) : true;
      return phase.more && !(opts.stopOnHit && res.hits > 0);
    },
  };
  const spec = campaignSpec(machine, s, variant, opts, moduleUrl, strategy);
  const plan = shardPlan(opts.runs, opts.shard, strategy?.name ?? null);
  const r = await runPlan(machine, spec, hooks, plan, phase).catch((e: unknown): CampaignResult => {
    // The setup that ran fine before any run threw in a later one (state kept across runs in the
    // scenario module, say): an error during the runs, as a final check that throws.
    if (!(e instanceof ScenarioCodeError)) throw e;
    res.userError = e.message;
    return { runs: runTimes.length, wallMs: runTimes.reduce((a, b) => a + b, 0) };
  });
  machine.attach();
  for (const o of obs) o.end?.();
  timeResult(res, r, runTimes);
  res.explored = strategy instanceof DfsStrategy ? strategy.explored : r.runs;
  if ((opts.record ?? 0) > 0) res.recordings = recordings;
  judge(res, s, r, halt);
  if (wantsDeadlockReplay(res, opts))
    await deadlockWithLockdep(
      runVariant,
      machine,
      s,
      variant,
      res.firstHit!,
      res.schedule!,
      moduleUrl,
      res.points,
    );
  return res;
}

/** Grades a run; a final check that threw ends the campaign with the scenario's error noted. */
function gradeOrNote(
  s: Scenario,
  o: RunOutcome,
  seed: number,
  g: Globals,
  res: VariantResult,
): RunView | null {
  try {
    return gradeRun(s, o, seed, g);
  } catch (e) {
    if (!(e instanceof ScenarioCodeError)) throw e;
    res.userError = `run ${o.run}: ${e.message}`;
    return null;
  }
}

/** The controlled-mode strategy's configuration: --strategy's (default random), with the shard. */
function strategyConfigOf(opts: CampaignOptions): StrategyConfig {
  return { ...(opts.strategy ?? { name: 'random' }), ...(opts.shard ? { shard: opts.shard } : {}) };
}

function decisionsOn(opts: CampaignOptions): 'cpus' | 'main' {
  return opts.decisionsOn ?? (process.env.MMRACE_DECIDE === 'main' ? 'main' : 'cpus');
}

function campaignSpec(
  machine: Machine,
  s: Scenario,
  variant: Variant,
  opts: CampaignOptions,
  moduleUrl: string,
  strategy: Strategy | undefined,
): CampaignSpec {
  return {
    entry: new URL('./cpu_entry.js', import.meta.url).href,
    entryArgs: { scenarioUrl: moduleUrl, era: variant.era },
    ncpus: s.cpus.length,
    cpuNames: s.cpus.map((c) => c.name),
    runs: opts.runs,
    seed: opts.seed,
    jitter: s.jitter,
    timeScale: s.timeScale ?? 1,
    runTimeoutMs: opts.runTimeoutMs ?? 20_000,
    kthreadCpus: s.cpus.flatMap((c, i) => (c.kthread ? [i] : [])),
    mode: opts.mode ?? 'free',
    ...(opts.points ? { points: opts.points } : {}),
    ...(strategy ? { strategy } : {}),
    ...(strategy && decisionsOn(opts) === 'cpus' ? { strategyConfig: strategyConfigOf(opts) } : {}),
    describeDeadlock: (cpus, headline) => {
      machine.attach();
      return deadlock_report(cpus, headline).map((l) =>
        l.replace(/^CPU(\d+):/, (_, c) => `CPU${c} (${s.cpus[+c]?.name}):`),
      );
    },
  };
}

/** The variant's verdict: an error (crash, hang, stopped run, the scenario's own error) or the grade. */
function judge(res: VariantResult, s: Scenario, r: CampaignResult, halt: string | undefined): void {
  if (r.crash) res.crash = r.crash;
  else if (r.timedOut) res.hang = describeHang(s, r.timedOut);
  else if (halt) res.stopped = `controlled run stopped: ${halt}`;
  const error = res.crash || res.hang || res.stopped || res.userError;
  res.observed = error ? 'error' : res.hits > 0 || res.checkFailures > 0 ? 'reproduces' : 'clean';
}

function describeHang(s: Scenario, o: RunOutcome): string {
  const stuck = o.cpus
    .map((c, i) => (c.state === CpuState.Done ? null : `CPU${i} (${s.cpus[i]?.name})`))
    .filter(Boolean);
  const why = o.report && o.report.length > 0 ? ` (${o.report.join('; ')})` : '';
  return `run ${o.run} did not finish within the run timeout; still running: ${stuck.join(', ') || 'none'}${why}`;
}
