// The kernel's lockup watchdogs for free-mode campaigns, run by the main thread while a run goes
// on: khungtaskd (a task in D state longer than hung_task_timeout_secs: the kernel's report with
// what it waits on and every held lock) and the soft-lockup detector (a CPU stuck in one spin loop
// for 2 * watchdog_thresh). Either stops the run, so a deadlocked scenario ends instead of hanging.
import { wallNow } from '../cpu/clock.js';
import { AbortReason, bootEpoch, C, ctl, PC, percpu } from '../cpu/control.js';
import { machineAsleep } from '../cpu/idle_warp.js';
import { check_hung_uninterruptible_tasks, hung_task_reset, hungTasksPending } from '../kernel/hung_task.js';
import { HZ, jiffies } from '../kernel/time.js';
import { softlockup_report, WATCHDOG_THRESH } from '../kernel/watchdog.js';
import { mem } from '../shm/arena.js';

/** sysctl_hung_task_timeout_secs: the kernel's default. */
export const HUNG_TASK_TIMEOUT_SECS = 120;
/** khungtaskd passes after the first report, at most, while the hang settles (Watchdogs.hungTasks). */
const MAX_EXTRA_PASSES = 2;
/**
 * A watchdog never fires before this much wall time: a host that deschedules a lock holder for a
 * moment (a loaded CI machine) must not look like a lockup at a high time scale.
 */
const MIN_WALL_SECS = 1;

/**
 * A watchdog timeout in emulated seconds: the kernel's, raised to MIN_WALL_SECS of wall time at
 * the scenario's time scale, and shortened to fire within half the run timeout (wall ms).
 */
export function watchdogSecs(kernelSecs: number, runTimeoutMs: number, timeScale: number): number {
  const fitting = Math.floor((runTimeoutMs / 2 / 1000) * timeScale);
  return Math.max(1, Math.min(Math.max(kernelSecs, MIN_WALL_SECS * timeScale), fitting));
}

function stopRun(): void {
  Atomics.compareExchange(mem.i32, ctl() + C.ABORT, AbortReason.None, AbortReason.Hung);
}

export class Watchdogs {
  readonly hungTaskSecs: number;
  readonly softLockupSecs: number;
  /** jiffies of khungtaskd's next pass. */
  private nextHungCheck = 0;
  /** khungtaskd passes made after the first that reported hung tasks (see hungTasks()). */
  private extraPasses = 0;
  private reportedOnce = false;

  constructor(
    runTimeoutMs: number,
    private readonly timeScale: number,
    private readonly ncpus: number,
    hungTaskSecs = HUNG_TASK_TIMEOUT_SECS,
  ) {
    this.hungTaskSecs = watchdogSecs(hungTaskSecs, runTimeoutMs, timeScale);
    this.softLockupSecs = watchdogSecs(2 * WATCHDOG_THRESH, runTimeoutMs, timeScale);
  }

  /** Before each run: the kernel's warning budget back to 10. */
  reset(): void {
    hung_task_reset();
    this.nextHungCheck = 0;
    this.extraPasses = 0;
    this.reportedOnce = false;
  }

  /** One tick of the soft-lockup detector, and khungtaskd's pass when due; stops the run on a report. */
  tick(): void {
    if (this.softLockups() + this.hungTasks() > 0) stopRun();
  }

  /**
   * kernel/hung_task.c watchdog(): khungtaskd sleeps hung_task_check_interval_secs (by default the
   * timeout) between passes, so one pass reports the tasks that blocked within one interval. The
   * kernel's khungtaskd goes on passing; a run stops, but not before the hang has settled: after a
   * pass that reports, the run goes on (up to MAX_EXTRA_PASSES more passes, each reporting again as
   * the kernel's would) while a CPU still runs (a writer still on its way into the lock the hung
   * readers hold, on a slow host) or a task in D state is still under the timeout. Returns the
   * reports that stop the run.
   */
  private hungTasks(): number {
    const now = jiffies();
    if (now < this.nextHungCheck) return 0;
    this.nextHungCheck = now + this.hungTaskSecs * HZ;
    const hung = check_hung_uninterruptible_tasks(this.hungTaskSecs);
    if (hung > 0) this.reportedOnce = true;
    if (!this.reportedOnce) return 0;
    const settled = machineAsleep() && hungTasksPending(this.hungTaskSecs) === 0;
    if (settled || this.extraPasses >= MAX_EXTRA_PASSES) return Math.max(1, hung);
    this.extraPasses++;
    return 0;
  }

  private softLockups(): number {
    const i32 = mem.i32;
    const nowMs = wallNow() - bootEpoch();
    let stuck = 0;
    for (let cpu = 0; cpu < this.ncpus; cpu++) {
      const since = Atomics.load(i32, percpu(cpu, PC.SPIN_SINCE));
      if (since === 0) continue;
      const secs = ((nowMs - (since - 1)) * this.timeScale) / 1000;
      if (secs < this.softLockupSecs) continue;
      softlockup_report(cpu, Atomics.load(i32, percpu(cpu, PC.CURRENT)), secs);
      stuck++;
    }
    return stuck;
  }
}
