// kernel/sched/core.c (v4.14): the end of a switch away from a task. A dying task cannot free its
// own task_struct: do_task_dead() leaves it TASK_DEAD and schedules, and the CPU, now running the
// next task, drops the "current" reference in finish_task_switch(). The emulator switches a CPU to
// its idle task when the CPU's program returns (scenarios/cpu_entry.ts), or when a test calls
// switchToIdle(); the next run's program is the next task.
import { cpuCtx } from '../cpu/context.js';
import { mem } from '../shm/arena.js';
import { put_task_struct } from './sched.js';
import { TASK, TASK_DEAD } from './task_struct.js';

/** kernel/fork.c mmdrop(), filled in by kernel/fork (kernel core does not import mm's layer). */
export const switchMm: { mmdrop: (mm: number) => void } = {
  mmdrop: () => {
    throw new Error('finish_task_switch: kernel/fork is not loaded');
  },
};

// kernel/sched/core.c finish_task_switch(), v4.14. `prev_mm` is rq->prev_mm: the lazy-TLB mm that
// context_switch() took from a prev without an mm of its own.
export function finish_task_switch(prev: number, prev_mm: number): void {
  // Read before on_cpu is cleared: from then on prev may be woken and run elsewhere.
  const prev_state = Atomics.load(mem.i32, prev + TASK.__state);
  Atomics.store(mem.i32, prev + TASK.on_cpu, 0); // finish_lock_switch()
  if (prev_mm) switchMm.mmdrop(prev_mm);
  // The reference a task has as "current": the task's last schedule() never returns.
  if (prev_state === TASK_DEAD) put_task_struct(prev);
}

/**
 * kernel/sched/core.c context_switch(), v4.14, from `current` to the idle task. Idle has no mm and
 * here borrows none: the lazy-TLB mm of a prev without ->mm (a task past exit_mm) is dropped at
 * once, where the kernel would drop it at idle's next switch to a task with an mm.
 */
export function switchToIdle(): void {
  const prev = cpuCtx.current;
  if (!prev) return;
  let prev_mm = 0;
  if (!Atomics.load(mem.i32, prev + TASK.mm)) {
    prev_mm = Atomics.load(mem.i32, prev + TASK.active_mm);
    Atomics.store(mem.i32, prev + TASK.active_mm, 0);
  }
  cpuCtx.current = 0; // switch_to()
  finish_task_switch(prev, prev_mm);
}
