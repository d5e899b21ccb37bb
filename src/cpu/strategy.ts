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
   */
  runAhead?(cpu: number, step: number): number;
  /** Decisions from `step` to `step + n - 1` were `cpu` going on at a point, under runAhead(). */
  ranAhead?(cpu: number, step: number, n: number): void;
  /** After each run. Returns false when the strategy has nothing left to explore. */
  endRun(end: RunEnd): boolean;
}
