// include/linux/preempt.h and arch/x86/include/asm/preempt.h (v4.14, CONFIG_PREEMPT_COUNT): the
// preempt count of each CPU, in its arena word (cpu/context.ts). Only the CPU itself changes the
// count, with one atomic add or sub, so the word stays exact while a grace period sets
// PREEMPT_NEED_RESCHED in it. A preempt-disabled region is an RCU-sched read-side critical
// section: kernel/rcu/sched_qs.ts waits for it.

import * as cpuContext from '../cpu/context.js';
import { PREEMPT_COUNT_MASK, PREEMPT_NEED_RESCHED } from '../cpu/context.js';
import { MAX_CPUS } from '../cpu/control.js';
import * as pointGate from '../cpu/point_gate.js';
import { gatePreemptSet } from '../cpu/point_gate.js';
import * as arena from '../shm/arena.js';

// Hot imports as module constants: TurboFan folds a module `const` to the value it held when it
// compiled, so a call through one needs no Cell load, hole check and call-target check as an
// imported binding does (a down_read+up_read pair: about 5 ns of 40, scripts/bench-locks.mjs).
const { cpuCtx, preemptCountWord, thisPreemptCountWord } = cpuContext;
const { gatePreemptDec, gatePreemptInc } = pointGate;
const { mem } = arena;

// include/linux/preempt.h preempt_disable(), v4.14
export function preempt_disable(): void {
  Atomics.add(mem.i32, thisPreemptCountWord(), 1);
  gatePreemptInc(); // sleeping locks go through might_sleep() until the matching enable
}

// include/linux/preempt.h preempt_enable(), v4.14, with x86's preempt_count_dec_and_test(): the
// outermost enable with a resched pending goes to preempt_schedule().
export function preempt_enable(): void {
  const w = thisPreemptCountWord();
  gatePreemptDec();
  if (Atomics.sub(mem.i32, w, 1) === 0x40000001 /* PREEMPT_NEED_RESCHED | 1 */) preempt_schedule(w);
}

// include/linux/preempt.h preempt_enable_no_resched(), v4.14: the pending resched stays pending.
export function preempt_enable_no_resched(): void {
  Atomics.sub(mem.i32, thisPreemptCountWord(), 1);
  gatePreemptDec();
}

// include/linux/preempt.h preempt_count(), v4.14
export function preempt_count(cpu = cpuCtx.cpu): number {
  return Atomics.load(mem.i32, preemptCountWord(cpu)) & PREEMPT_COUNT_MASK;
}

// kernel/sched/core.c preempt_schedule(), v4.14: the task is not switched out here (a CPU runs one
// program), but the switch's rcu_note_context_switch() is: clearing the resched request is the
// quiescent state, and the grace periods sleeping on this word are woken.
function preempt_schedule(w: number): void {
  Atomics.and(mem.i32, w, ~PREEMPT_NEED_RESCHED);
  cpuCtx.runner.wake(w, MAX_CPUS + 1);
}

if (PREEMPT_NEED_RESCHED !== 0x40000000)
  throw new Error('preempt.ts: preempt_enable() disagrees with PREEMPT_NEED_RESCHED');

// kernel/sched/core.c resched_cpu(), v4.14, as RCU uses it on a CPU that holds up a grace period:
// returns false when the CPU is not preempt-disabled (it is quiescent now), else marks it so that
// its outermost preempt_enable() reports.
export function resched_cpu(cpu: number): boolean {
  const i32 = mem.i32;
  const w = preemptCountWord(cpu);
  for (;;) {
    const v = Atomics.load(i32, w);
    if ((v & PREEMPT_COUNT_MASK) === 0) return false;
    if (v & PREEMPT_NEED_RESCHED || Atomics.compareExchange(i32, w, v, v | PREEMPT_NEED_RESCHED) === v)
      return true;
  }
}

/** Per-run reset: every CPU's count zero (a CPU that died inside a spinlock left its count up). */
export function preemptReset(): void {
  for (let cpu = -1; cpu < MAX_CPUS; cpu++) Atomics.store(mem.i32, preemptCountWord(cpu), 0);
  gatePreemptSet(0);
}
