// The CPU worker: a tinypool thread that attaches to the arena and runs one CPU's programs.
import { type CpuTask, type CpuTaskResult, runCpu } from '../src/cpu/cpu_loop.js';
import { trustCheckedScenarios } from '../src/scenarios/scenario_trust.js';

// Call traces in kernel reports are JS stacks: keep them deep (stack_frames.ts maps them to the
// TypeScript sources when it prints them).
Error.stackTraceLimit = 64;
trustCheckedScenarios();

export default function cpu(task: CpuTask): Promise<CpuTaskResult> {
  return runCpu(task);
}
