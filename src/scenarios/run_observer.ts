// The campaign loop's observers: each feature of a campaign (grading, recording, traces,
// watchdogs) sees every run through this one small interface, as Shuttle's runner does.
import type { LogRecord } from '../cpu/logring.js';
import type { RunOutcome } from '../cpu/machine.js';

/** One finished run as the observers see it, graded once by grading.ts. */
export interface RunView {
  outcome: RunOutcome;
  /** The run's seed (campaign seed + run index). */
  seed: number;
  records: LogRecord[];
  /** The controlled-mode deadlock report (not printk output); empty otherwise. */
  deadlock: string[];
  /** The first detector line, or the deadlock headline. */
  hitLine: string | undefined;
  /** A detector fired, the task oopsed, or a final check failed. */
  failed: boolean;
  /** The final check that failed, when no detector fired. */
  failedCheck: { name: string; detail: string } | null;
}

export interface RunObserver {
  /** Main thread, after the kernel reset and the scenario's setup, before the CPUs start. */
  beforeRun?(run: number): void;
  /** Free mode, about every 50 ms while a run goes on. */
  tick?(): void;
  /** After each run. */
  afterRun?(view: RunView): void;
  /** After the campaign (the machine attached again). */
  end?(): void;
}
