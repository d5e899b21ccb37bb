// An experiment CPU's program runs as its task: `current`, the task's CPU and on_cpu set for the
// program, on_cpu cleared whatever happens (the kernel code reads them: lock owners, RCU, lockdep).
import { cpuCtx } from '../../cpu/context.js';
import { TASK } from '../../kernel/task_struct.js';
import { mem } from '../../shm/arena.js';

export function runAsTask(task: number, cpu: number, body: () => void): void {
  cpuCtx.current = task;
  Atomics.store(mem.i32, task + TASK.cpu, cpu);
  Atomics.store(mem.i32, task + TASK.on_cpu, 1);
  try {
    body();
  } finally {
    Atomics.store(mem.i32, task + TASK.on_cpu, 0);
  }
}
