// A CPU that wakes a task late, again and again: wake_up_q() of an earlier, unrelated lock the task
// had queued on, the kernel's ordinary source of spurious wake-ups (kernel-locking.md §1.14). A
// writer woken so retries its rwsem slowpath without waiting for a reader's rwsem_wake(). The CPU
// starts once `gate` (an rw_semaphore another CPU holds for writing) opens.
import { point } from '../cpu/context.js';
import { down_read, up_read } from '../kernel/locking/rwsem.js';
import { wake_up_process } from '../kernel/sched.js';

export function lateWakeups(gate: number, pointId: string, wakes: number, task: number): void {
  down_read(gate);
  up_read(gate);
  for (let i = 0; i < wakes; i++) {
    point(pointId);
    wake_up_process(task);
  }
}
