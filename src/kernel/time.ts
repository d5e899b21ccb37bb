// include/linux/jiffies.h on the emulated clock (CONFIG_HZ=1000).
import { cpuCtx } from '../cpu/context.js';

export const HZ = 1000;

export function jiffies(): number {
  return Math.floor((cpuCtx.runner.now() * HZ) / 1000) | 0;
}

/** time_after(a, b): true if a is after b, wrap-safe. */
export function time_after(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}

export function msecs_to_jiffies(ms: number): number {
  return Math.ceil((ms * HZ) / 1000);
}
