// kernel/watchdog.c (v6.6): the soft-lockup detector. A CPU that has not scheduled for
// 2 * watchdog_thresh seconds is reported. Here "not scheduled" is "stuck in one spin loop": the
// free runner stamps when a CPU's spin loop began (PC.SPIN_SINCE) and the main thread, as the
// watchdog's hrtimer, checks it. The stuck CPU's own stack cannot be read from another thread,
// so the report has the header and the CPU line but no Call Trace.
import { print_tainted } from './panic.js';
import { KERN_EMERG, printk } from './printk.js';
import { task_comm, task_pid } from './task_struct.js';
import { utsname } from './utsname.js';

/** watchdog_thresh (seconds); a soft lockup is twice that, as in get_softlockup_thresh(). */
export const WATCHDOG_THRESH = 10;

// kernel/watchdog.c watchdog_timer_fn() soft-lockup branch, v6.6
export function softlockup_report(cpu: number, task: number, duration: number): void {
  const comm = task ? task_comm(task) : 'swapper';
  const pid = task ? task_pid(task) : 0;
  printk(
    KERN_EMERG,
    [
      `BUG: soft lockup - CPU#${cpu} stuck for ${Math.floor(duration)}s! [${comm}:${pid}]`,
      'Modules linked in:',
      `CPU: ${cpu} PID: ${pid} Comm: ${comm} ${print_tainted()} ${utsname.release} #1`,
    ].join('\n'),
  );
}
