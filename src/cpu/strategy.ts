// A controlled-mode strategy picks which runnable CPU runs next at every preemption point.
// Strategies are one file each under strategies/, behind this interface (as Shuttle does).

export interface RunEnd {
  /** Scheduling decisions the run took. */
  steps: number;
  /** Whether a detector fired. */
  failed: boolean;
}

export interface Strategy {
  readonly name: string;
  /**
   * The CPU threads may decide with copies of this strategy (cpu/decision_log.ts): it is rebuilt
   * from its configuration plus strategyState(), and it is a pure function of the calls it gets,
   * ignoring RunEnd.failed (the copies see false).
   */
  readonly decidesOnCpus?: boolean;
  /** Before each run; `runSeed` is the campaign seed + run index. */
  beginRun(runSeed: number, ncpus: number): void;
  /**
   * The CPU to run next. `runnable` is non-empty and ascending; `current` is the CPU that reached
   * the point (-1 at the start of a run); `step` counts decisions so far in this run.
   */
  pick(runnable: readonly number[], current: number, step: number): number;
  /**
   * Optional run-ahead: called right after pick() returned `cpu` at decision `step`. Returns how
   * many of the following decisions the strategy commits to "`cpu` goes on" whenever `cpu` is at a
   * point, whoever else is runnable. The CPU then passes that many points without a round trip to
   * the main thread; any other event (a wait, a spin, the end of its program) still comes back.
   * It must not change the strategy's state: only the thread that decides asks it, so the other
   * copies of a strategy deciding on the CPUs never see the call (decision_log.ts).
   */
  runAhead?(cpu: number, step: number): number;
  /** Decisions from `step` to `step + n - 1` were `cpu` going on at a point, under runAhead(). */
  ranAhead?(cpu: number, step: number, n: number): void;
  /** After each run. Returns false when the strategy has nothing left to explore. */
  endRun(end: RunEnd): boolean;
}

/**
 * The state a strategy carries from run to run, for a copy on a CPU thread (structured-cloned with
 * the CPU's task): its data fields. Function fields (a random generator) are per-run, remade by
 * beginRun from the run's seed.
 */
export function strategyState(s: Strategy): Record<string, unknown> {
  const state: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) if (typeof v !== 'function') state[k] = v;
  return state;
}
