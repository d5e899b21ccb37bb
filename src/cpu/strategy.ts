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
  /** After each run. Returns false when the strategy has nothing left to explore. */
  endRun(end: RunEnd): boolean;
}
