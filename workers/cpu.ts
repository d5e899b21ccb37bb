// The CPU worker: a tinypool thread that attaches to the arena and runs one CPU's programs.
import { type CpuTask, type CpuTaskResult, runCpu } from '../src/cpu/cpu_loop.js';

export default function cpu(task: CpuTask): Promise<CpuTaskResult> {
  return runCpu(task);
}
