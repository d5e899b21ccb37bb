// khungtaskd for free-mode campaigns: the main thread runs the kernel's hung-task check while a
// run goes on. A task in D state longer than the timeout gets the kernel's report (what it waits
// on, every held lock) and the run is stopped, so a deadlocked scenario ends instead of hanging.

import { AbortReason, C, ctl } from '../cpu/control.js';
import { check_hung_uninterruptible_tasks, hung_task_reset } from '../kernel/hung_task.js';
import { mem } from '../shm/arena.js';

/** sysctl_hung_task_timeout_secs: the kernel's default. */
export const HUNG_TASK_TIMEOUT_SECS = 120;

/**
 * The timeout (emulated seconds) a campaign uses: the kernel's default, shortened when needed so the
 * watchdog fires within half the run timeout (wall ms) at the scenario's time scale.
 */
export function hungTaskTimeoutSecs(
  runTimeoutMs: number,
  timeScale: number,
  wanted = HUNG_TASK_TIMEOUT_SECS,
): number {
  const fitting = Math.floor((runTimeoutMs / 2 / 1000) * timeScale);
  return Math.max(1, Math.min(wanted, fitting));
}

export class HungTaskWatchdog {
  /** Runs in which the watchdog fired. */
  fired = 0;

  constructor(readonly timeoutSecs: number) {}

  /** Before each run: the kernel's warning budget back to 10. */
  reset(): void {
    hung_task_reset();
  }

  /** One khungtaskd pass; stops the run when it reported a task. */
  tick(): void {
    if (check_hung_uninterruptible_tasks(this.timeoutSecs) === 0) return;
    this.fired++;
    Atomics.compareExchange(mem.i32, ctl() + C.ABORT, AbortReason.None, AbortReason.Hung);
  }
}
