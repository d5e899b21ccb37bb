// kernel/sched/core.c and include/linux/sched.h: current, task states, sleeping and waking.
// A task sleeps on its own state word: set the state, re-check the condition, schedule().
import * as cpuContext from '../cpu/context.js';
import { gatePreemptOpen } from '../cpu/point_gate.js';
import { mem } from '../shm/arena.js';
import { dump_stack } from './panic.js';
import { KERN_ERR, printk } from './printk.js';
import {
  TASK,
  TASK_INTERRUPTIBLE,
  TASK_NORMAL,
  TASK_RUNNING,
  TASK_WAKEKILL,
  task_comm,
  task_pid,
} from './task_struct.js';
import { jiffies } from './time.js';

// Hot imports as module constants: TurboFan folds a module `const` to the value it held when it
// compiled, so a call through one needs no Cell load, hole check and call-target check as an
// imported binding does (a down_read+up_read pair: about 5 ns of 40, scripts/bench-locks.mjs).
const { cpuCtx } = cpuContext;

export const MAX_SCHEDULE_TIMEOUT = 0x7fffffff;

// arch/x86/include/asm/current.h get_current()
export function get_current(): number {
  return cpuCtx.current;
}

export function set_current_state(state: number): void {
  Atomics.store(mem.i32, cpuCtx.current + TASK.__state, state);
}

export const __set_current_state = set_current_state;

// include/linux/sched/signal.h
export function signal_pending(p: number): boolean {
  return Atomics.load(mem.i32, p + TASK.pending_sigkill) !== 0;
}

export function fatal_signal_pending(p: number): boolean {
  return signal_pending(p);
}

export function signal_pending_state(state: number, p: number): boolean {
  if (!(state & (TASK_INTERRUPTIBLE | TASK_WAKEKILL))) return false;
  if (!signal_pending(p)) return false;
  return (state & TASK_INTERRUPTIBLE) !== 0 || fatal_signal_pending(p);
}

// include/linux/kernel.h might_sleep() with CONFIG_DEBUG_ATOMIC_SLEEP
export function might_sleep(site = 'kernel/sched/core.c'): void {
  // The count is read only while this thread has a preempt-disabled section open (cpu/point_gate.ts).
  if (gatePreemptOpen() && cpuCtx.preemptCount > 0) __might_sleep_report(site);
}

function __might_sleep_report(site: string): void {
  const t = cpuCtx.current;
  printk(
    KERN_ERR,
    [
      `BUG: sleeping function called from invalid context at ${site}`,
      `in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: ${task_pid(t)}, name: ${task_comm(t)}`,
      `preempt_count: ${cpuCtx.preemptCount}, expected: 0`,
    ].join('\n'),
  );
  dump_stack();
}

// kernel/sched/core.c schedule(): sleep until the state word says TASK_RUNNING.
export function schedule(): void {
  schedule_timeout(MAX_SCHEDULE_TIMEOUT);
}

// kernel/time/timer.c schedule_timeout(): returns the jiffies left (0 when the timer fired).
export function schedule_timeout(timeout: number): number {
  const t = cpuCtx.current;
  const at = t + TASK.__state;
  if (cpuCtx.preemptCount > 0) __might_sleep_report('kernel/sched/core.c:schedule');
  const expire = timeout === MAX_SCHEDULE_TIMEOUT ? Infinity : jiffies() + timeout;
  for (;;) {
    const s = Atomics.load(mem.i32, at);
    if (s === TASK_RUNNING) break;
    if (signal_pending_state(s, t)) {
      Atomics.store(mem.i32, at, TASK_RUNNING);
      break;
    }
    const leftMs = expire === Infinity ? Infinity : expire - jiffies();
    // Off the CPU while asleep: optimistic spinners stop spinning on an owner that sleeps.
    Atomics.store(mem.i32, t + TASK.on_cpu, 0);
    Atomics.add(mem.i32, t + TASK.nvcsw, 1);
    const r = leftMs <= 0 ? 'timed-out' : cpuCtx.runner.wait(at, s, leftMs);
    Atomics.store(mem.i32, t + TASK.on_cpu, 1);
    if (r === 'timed-out') {
      // process_timeout(): the timer wakes the task.
      wake_up_process(t);
      break;
    }
  }
  return expire === Infinity ? MAX_SCHEDULE_TIMEOUT : Math.max(0, expire - jiffies());
}

export function schedule_timeout_uninterruptible(timeout: number): number {
  set_current_state(0x2);
  return schedule_timeout(timeout);
}

export function schedule_timeout_idle(timeout: number): number {
  set_current_state(0x402);
  return schedule_timeout(timeout);
}

// kernel/sched/core.c try_to_wake_up()
export function try_to_wake_up(p: number, state: number): boolean {
  const at = p + TASK.__state;
  for (;;) {
    const s = Atomics.load(mem.i32, at);
    if (!(s & state)) return false;
    if (Atomics.compareExchange(mem.i32, at, s, TASK_RUNNING) === s) {
      cpuCtx.runner.wake(at, 1);
      return true;
    }
  }
}

export function wake_up_process(p: number): boolean {
  return try_to_wake_up(p, TASK_NORMAL);
}

// include/linux/sched/task.h get_task_struct() / put_task_struct(); the free lives in kernel/fork.
export function get_task_struct(t: number): number {
  Atomics.add(mem.i32, t + TASK.usage, 1);
  return t;
}

export const taskRelease: { free: (t: number) => void } = {
  free: () => {
    throw new Error('put_task_struct: kernel/fork is not loaded');
  },
};

export function put_task_struct(t: number): void {
  if (Atomics.sub(mem.i32, t + TASK.usage, 1) === 1) taskRelease.free(t);
}

/** kernel/sched/core.c wake_up_q(): the waker holds a task reference per queued task. */
export function wake_up_q(q: number[]): void {
  for (const t of q) {
    wake_up_process(t);
    put_task_struct(t);
  }
  q.length = 0;
}
