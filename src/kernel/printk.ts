// kernel/printk/printk.c: printk into the log ring, with the caller's CPU and PID.
import { cpuCtx } from '../cpu/context.js';
import { logWrite } from '../cpu/logring.js';
import { traceMark } from '../cpu/trace_buffer.js';
import { task_pid } from './task_struct.js';

export const KERN_EMERG = 0;
export const KERN_ALERT = 1;
export const KERN_CRIT = 2;
export const KERN_ERR = 3;
export const KERN_WARNING = 4;
export const KERN_NOTICE = 5;
export const KERN_INFO = 6;
export const KERN_DEBUG = 7;

/** Writes each line of `text` as one record at `level`. */
export function printk(level: number, text: string): void {
  // Not `| 0`: past 2147 s of emulated time a signed 32-bit count of microseconds wrapped.
  const usec = Math.max(0, Math.floor(cpuCtx.runner.now() * 1000));
  const pid = task_pid(cpuCtx.current);
  for (const line of text.split('\n')) {
    const seq = logWrite(level, cpuCtx.cpu, pid, usec, line);
    traceMark(seq, line); // --trace: an instant marker for BUG/WARNING/Oops lines
  }
}

export const pr_emerg = (s: string): void => printk(KERN_EMERG, s);
export const pr_alert = (s: string): void => printk(KERN_ALERT, s);
export const pr_err = (s: string): void => printk(KERN_ERR, s);
export const pr_warn = (s: string): void => printk(KERN_WARNING, s);
export const pr_info = (s: string): void => printk(KERN_INFO, s);

export function hex8(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}
