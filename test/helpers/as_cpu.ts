// Runs a piece of kernel code on the boot CPU as if another CPU ran it: that CPU's number (its
// per-CPU words) and `task` as current, both restored after. For scripted interleavings in tests.
import { cpuCtx } from '../../src/cpu/context.js';

export function as<T>(cpu: number, task: number, f: () => T): T {
  const [c, t] = [cpuCtx.cpu, cpuCtx.current];
  cpuCtx.cpu = cpu;
  cpuCtx.current = task;
  try {
    return f();
  } finally {
    cpuCtx.cpu = c;
    cpuCtx.current = t;
  }
}
