// kernel/kthread.c: a kernel thread runs until told to stop.
import { mem } from '../shm/arena.js';
import { get_current, wake_up_process } from './sched.js';
import { TASK } from './task_struct.js';

export function kthread_should_stop(): boolean {
  return Atomics.load(mem.i32, get_current() + TASK.kthread_should_stop) !== 0;
}

/** Ask `k` to stop and wake it. (The real kthread_stop also waits for it; the emulator's run does.) */
export function kthread_stop(k: number): void {
  Atomics.store(mem.i32, k + TASK.kthread_should_stop, 1);
  wake_up_process(k);
}
