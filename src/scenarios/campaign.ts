// Runs one scenario variant many times on a machine (main-thread side). The loop is the
// machine's, its hooks variant_hooks.ts; each run's initial state comes from run_setup.ts; each
// feature of a campaign is an observer in its own file: grading (grading.ts), recording
// (record_observer.ts), traces (trace_observer.ts), the watchdogs (watchdogs.ts); a controlled
// run's first hit is replayed for its full report (report_replay.ts): with lockdep on, for a
// deadlock found without it, and with the lockdep sites the CPUs left to the replay.

import { CpuState } from '../cpu/control.js';
import type { PointGranularity } from '../cpu/granularity.js';
import { NO_JITTER } from '../cpu/jitter.js';
import { type CampaignResult, type CampaignSpec, Machine, type RunOutcome } from '../cpu/machine.js';
import { ownModule } from '../cpu/own_modules.js';
import { DfsStrategy } from '../cpu/strategies/dfs.js';
import { makeStrategy, type StrategyConfig } from '../cpu/strategies/index.js';
import type { Shard } from '../cpu/strategies/shard.js';
import type { Strategy } from '../cpu/strategy.js';
import { deadlock_report } from '../kernel/deadlock_report.js';
import { lockdepLazySites } from '../kernel/locking/lockdep_state.js';
import { scenarioEra } from './era_matrix.js';
import { gradingObserver } from './grading.js';
import { DEFAULT_PAGES, machineRegions } from './kernel_image.js';
import { recordObserver } from './record_observer.js';
import { lazyLockdepSites, replayForReport, wantsReportReplay } from './report_replay.js';
import type { RunObserver } from './run_observer.js';
import { prepareRunSetup } from './run_setup.js';
import type { Scenario, Variant } from './scenario.js';
import { runPlan, type ShardPhase, shardPlan } from './shard_plan.js';
import { observedOf } from './symptoms.js';
import { traceObserver } from './trace_observer.js';
import { ScenarioCodeError } from './user_code.js';
import { type VariantRunLog, variantHooks } from './variant_hooks.js';
import { type FailedRecording, newResult, timeResult, type VariantResult } from './variant_result.js';
import { Watchdogs } from './watchdogs.js';

export { isDetectorLine } from './grading.js';
export type { FailedRecording, RunHit, TracedRun, VariantResult } from './variant_result.js';

export interface CampaignOptions {
  runs: number;
  seed: number;
  /** Stop at the first run with an expected symptom, a hit or a failed final check (default: go on, to measure the hit rate). */
  stopOnHit?: boolean;
  runTimeoutMs?: number;
  /** free (default): real parallel runs with jitter; controlled: one CPU at a time, `strategy` picks. */
  mode?: 'free' | 'controlled';
  /** Controlled mode's strategy (default random). */
  strategy?: StrategyConfig;
  /**
   * Controlled mode: replay the first hit for its full report (default yes): a deadlock found with
   * lockdep off with lockdep on, and lockdep's sites, which the runs leave to this replay (no stack
   * capture per acquisition). Without it every site is captured when it is taken.
   */
  replayForReport?: boolean;
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
  /**
   * Restore a `setupOnce` scenario's arena from one setup before each run (run_setup.ts; default
   * yes unless MMRACE_SNAPSHOT=0); false runs setup before every run.
   */
  snapshot?: boolean;
  /** Free mode without the scenario's jitter (the baseline PCT is compared with). */
  noJitter?: boolean;
  /** Told after each run: the runs done and the failing runs so far (a progress bar). */
  onProgress?: (runs: number, failing: number) => void;
}

export function scenarioUrl(s: Scenario): string {
  return ownModule(`scenarios/${s.id}.js`);
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
  const tell = opts.onProgress;
  let done = 0;
  if (tell) obs.push({ afterRun: () => tell(++done, res.hits + res.checkFailures + res.unexpected) });
  return obs;
}

export async function runVariant(
  machine: Machine,
  s: Scenario,
  variant: Variant,
  opts: CampaignOptions,
  moduleUrl = scenarioUrl(s),
): Promise<VariantResult> {
  const era = scenarioEra(s, variant.era);
  if (!era) throw new Error(`scenario ${s.id}: variant ${variant.name} names unknown era '${variant.era}'`);
  const mode = opts.mode ?? 'free';
  if ((opts.record ?? 0) > 0 && mode !== 'free')
    throw new Error('recording (--record) is for free mode only');
  const strategy = mode === 'controlled' ? makeStrategy(strategyConfigOf(opts)) : undefined;
  const res = newResult(s, variant, opts.seed, mode, strategy?.name ?? null);
  res.points = opts.points ?? 'coarse';
  machine.attach();
  // The scenario's setup errors surface here, before any CPU runs.
  const setup = prepareRunSetup(s, variant, era, opts.snapshot);
  const recordings: FailedRecording[] = [];
  const obs = observersOf(s, res, opts, recordings);
  const phase: ShardPhase = { offset: 0, probing: false, more: true };
  const log: VariantRunLog = { runTimes: [], halt: undefined };
  const stopOnHit = opts.stopOnHit ?? false;
  const hooks = variantHooks({ s, res, seed: opts.seed, stopOnHit, setup, obs, strategy, phase }, log);
  const spec = campaignSpec(machine, s, variant, opts, moduleUrl, strategy);
  const plan = shardPlan(opts.runs, opts.shard, strategy?.name ?? null);
  lockdepLazySites(lazyLockdepSites(opts));
  const r = await runPlan(machine, spec, hooks, plan, phase)
    .catch((e: unknown): CampaignResult => {
      // The setup that ran fine before any run threw in a later one (state kept across runs in the
      // scenario module, say): an error during the runs, as a final check that throws.
      if (!(e instanceof ScenarioCodeError)) throw e;
      res.userError = e.message;
      return { runs: log.runTimes.length, wallMs: log.runTimes.reduce((a, b) => a + b, 0) };
    })
    .finally(() => {
      machine.attach();
      lockdepLazySites(false);
    });
  for (const o of obs) o.end?.();
  timeResult(res, r, log.runTimes);
  res.explored = strategy instanceof DfsStrategy ? strategy.explored : r.runs;
  if ((opts.record ?? 0) > 0) res.recordings = recordings;
  judge(res, s, r, log.halt);
  if (wantsReportReplay(res, opts))
    await replayForReport(
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
    entry: ownModule('scenarios/cpu_entry.js'),
    entryArgs: { scenarioUrl: moduleUrl, era: variant.era },
    ncpus: s.cpus.length,
    cpuNames: s.cpus.map((c) => c.name),
    runs: opts.runs,
    seed: opts.seed,
    jitter: opts.noJitter ? NO_JITTER : s.jitter,
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
  res.observed = observedOf({ ...res, error: Boolean(error) });
}

function describeHang(s: Scenario, o: RunOutcome): string {
  const stuck = o.cpus
    .map((c, i) => (c.state === CpuState.Done ? null : `CPU${i} (${s.cpus[i]?.name})`))
    .filter(Boolean);
  const why = o.report && o.report.length > 0 ? ` (${o.report.join('; ')})` : '';
  return `run ${o.run} did not finish within the run timeout; still running: ${stuck.join(', ') || 'none'}${why}`;
}
