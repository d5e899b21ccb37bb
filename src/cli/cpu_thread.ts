// What a CPU worker (a tinypool thread) runs: the compiled modules' entry (workers/cpu.ts) and the
// bundle's (dist/cpu-worker.js, see scripts/bundle.mjs) call these.
import { type CpuTask, type CpuTaskResult, runCpu } from '../cpu/cpu_loop.js';
import { trustCheckedScenarios } from '../scenarios/scenario_trust.js';

/** A CPU worker's start, before its first task. */
export function cpuThreadInit(): void {
  // Call traces in kernel reports are JS stacks: keep them deep (stack_frames.ts maps them to the
  // TypeScript sources when it prints them).
  Error.stackTraceLimit = 64;
  trustCheckedScenarios();
}

/** A CPU worker's task: one CPU's programs for one campaign. */
export function cpuWorker(task: CpuTask): Promise<CpuTaskResult> {
  return runCpu(task);
}
