// This thread's CPU: its id, its runner and `current`. One worker is one CPU, so this is per-thread
// state; the main thread is the boot CPU while it sets a machine up.
import { BootRunner } from './free.js';
import { atomicPoints } from './granularity.js';
import type { Runner } from './runner.js';

export const BOOT_CPU = -1;

export interface CpuContext {
  cpu: number;
  runner: Runner;
  /** Task pointer of `current`, 0 when none. */
  current: number;
  /** preempt_count(): spinlocks held (and other atomic sections) on this CPU. */
  preemptCount: number;
}

export const cpuCtx: CpuContext = { cpu: BOOT_CPU, runner: new BootRunner(), current: 0, preemptCount: 0 };

/** A preemption point: the kernel can be interrupted or preempted here. */
export function point(id: string): void {
  cpuCtx.runner.point(id);
}

export function smp_processor_id(): number {
  return cpuCtx.cpu;
}

/**
 * A decision point before a shared access inside a primitive, at atomic granularity only
 * (cpu/granularity.ts); at the default coarse granularity it costs one test of a flag.
 */
export function atomicPoint(id: string): void {
  if (atomicPoints()) cpuCtx.runner.point(id);
}
