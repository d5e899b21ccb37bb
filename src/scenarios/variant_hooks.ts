// The machine's hooks for one variant's campaign: each run's initial state (run_setup.ts), the
// observers around it, and after it the strategy's verdict on going on. A shard's probe run
// (shard_plan.ts) only teaches the strategy; it is neither graded nor observed.
import { AbortReason } from '../cpu/control.js';
import type { CampaignHooks, RunOutcome } from '../cpu/machine.js';
import { ReplayStrategy } from '../cpu/strategies/replay.js';
import type { Strategy } from '../cpu/strategy.js';
import { gradeRun } from './grading.js';
import { stopScenarioKthreads } from './kernel_image.js';
import type { RunObserver, RunView } from './run_observer.js';
import type { RunSetup } from './run_setup.js';
import type { Globals, Scenario } from './scenario.js';
import type { ShardPhase } from './shard_plan.js';
import { ScenarioCodeError } from './user_code.js';
import type { VariantResult } from './variant_result.js';

export interface VariantRun {
  s: Scenario;
  res: VariantResult;
  seed: number;
  stopOnHit: boolean;
  setup: RunSetup;
  obs: readonly RunObserver[];
  strategy: Strategy | undefined;
  phase: ShardPhase;
}

/** What the hooks learnt: every graded run's wall time, and why a controlled run stopped. */
export interface VariantRunLog {
  runTimes: number[];
  halt: string | undefined;
}

export function variantHooks(v: VariantRun, log: VariantRunLog): CampaignHooks {
  const { s, phase, obs } = v;
  let globals: Globals = {};
  return {
    setup(run) {
      globals = v.setup.beforeRun(run + phase.offset);
      if (!phase.probing) for (const o of obs) o.beforeRun?.(run + phase.offset);
    },
    tick() {
      for (const o of obs) o.tick?.();
      return false;
    },
    stopKthreads() {
      stopScenarioKthreads(s, globals);
    },
    finish(machineRun) {
      const o = { ...machineRun, run: machineRun.run + phase.offset };
      return phase.probing ? probed(v, log, o) : graded(v, log, o, globals);
    },
  };
}

function probed(v: VariantRun, log: VariantRunLog, o: RunOutcome): boolean {
  if (o.abort === AbortReason.Halted) log.halt ??= `run ${o.run}: ${(o.report ?? []).join('; ')}`;
  v.phase.more = v.strategy!.endRun({ steps: o.picks?.length ?? 0, failed: false }) && !log.halt;
  return false;
}

function graded(v: VariantRun, log: VariantRunLog, o: RunOutcome, globals: Globals): boolean {
  const { res, strategy } = v;
  log.runTimes.push(o.wallMs);
  const view = gradeOrNote(v.s, o, (v.seed + o.run) >>> 0, globals, res);
  if (!view) return false;
  for (const ob of v.obs) ob.afterRun?.(view);
  if (strategy instanceof ReplayStrategy && strategy.diverged)
    res.divergence ??= `run ${o.run} left the schedule: ${strategy.diverged}`;
  if (o.abort === AbortReason.Halted) {
    log.halt ??= `run ${o.run}: ${(o.report ?? []).join('; ')}`;
    return false;
  }
  v.phase.more = strategy ? strategy.endRun({ steps: o.picks?.length ?? 0, failed: view.failed }) : true;
  return v.phase.more && !(v.stopOnHit && res.hits + res.checkFailures > 0);
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
