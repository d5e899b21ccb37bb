// This thread's CPU: its id, its runner and `current`. One worker is one CPU, so this is per-thread
// state; the main thread is the boot CPU while it sets a machine up. The preempt count is the one
// per-CPU value other CPUs read (RCU-sched waits for preempt-disabled CPUs), so it lives in the
// arena, one word per CPU.
import { mem } from '../shm/arena.js';
import { defineStatics } from '../shm/statics.js';
import { threadConfig } from '../shm/thread_config.js';
import { MAX_CPUS } from './control.js';
import { BootRunner } from './free.js';
import { atomicGate, atomicPoints, atomicWindows } from './granularity.js';
import { gatePreempt, gatePreemptSet, gateRunner } from './point_gate.js';
import type { Runner } from './runner.js';

export const BOOT_CPU = -1;

// arch/x86/include/asm/preempt.h, v4.14: __preempt_count is a per-CPU word whose top bit folds in
// PREEMPT_NEED_RESCHED, so preempt_enable() tests both with one decrement. Here the bit is set
// (not inverted as on x86) by a grace period that waits for this CPU (resched_cpu()), and the
// outermost preempt_enable() that finds it reports the quiescent state (kernel/preempt.ts).
// Slot 0 is the boot CPU, slot cpu + 1 the others (as RCU's reader words).
export const PREEMPT_COUNT = defineStatics('preempt_count', [`pcpu[${MAX_CPUS + 1}]`]);
export const PREEMPT_NEED_RESCHED = 1 << 30;
/** The nesting part of the word: spinlocks, rcu_read_lock()s and preempt_disable()s held. */
export const PREEMPT_COUNT_MASK = PREEMPT_NEED_RESCHED - 1;

/**
 * The boot CPU's preempt count word in this thread's arena, looked up when the thread attaches
 * one: every machine has the region (cpu/machine.ts). -1 before: the address is then out of any
 * arena, as the empty mem.i32 is.
 */
var preemptWord0 = -1; // `var`: no TDZ hole check on lock paths (see cpu/point_gate.ts)

/** Address of `cpu`'s preempt count word: a plain add on lock paths. */
export function preemptCountWord(cpu: number): number {
  return preemptWord0 + cpu + 1;
}

/** preemptCountWord(cpuCtx.cpu), kept as either changes: preempt_disable() reads one variable. */
var thisCpuPreemptWord = -1; // `var`: no TDZ hole check (see cpu/point_gate.ts)

/** This thread's CPU's preempt count word (kernel/preempt.ts). */
export function thisPreemptCountWord(): number {
  return thisCpuPreemptWord;
}

export interface CpuContext {
  cpu: number;
  runner: Runner;
  /** Task pointer of `current`, 0 when none. */
  current: number;
  /**
   * preempt_count() of this CPU: spinlocks held (and other atomic sections). Reads and writes go
   * to the CPU's arena word; assigning is a reset (run start, tests) and drops a pending resched.
   */
  preemptCount: number;
}

// A class, so that the accessors live on the prototype: an object literal with an accessor made
// every cpuCtx load on the lock paths slower (spin_lock+spin_unlock 147 against 120 ns).
class PerThreadCpu implements CpuContext {
  private c = BOOT_CPU;
  current = 0;
  private r: Runner = new BootRunner();
  constructor() {
    gateRunner(this.r);
  }
  get cpu(): number {
    return this.c;
  }
  set cpu(cpu: number) {
    this.c = cpu;
    thisCpuPreemptWord = preemptWord0 + cpu + 1;
  }
  get runner(): Runner {
    return this.r;
  }
  /** Assigning a runner decides whether this thread's points are quiet (cpu/point_gate.ts). */
  set runner(r: Runner) {
    this.r = r;
    gateRunner(r);
  }
  get preemptCount(): number {
    return Atomics.load(mem.i32, preemptCountWord(this.cpu)) & PREEMPT_COUNT_MASK;
  }
  set preemptCount(v: number) {
    const was = Atomics.exchange(mem.i32, preemptCountWord(this.cpu), v & PREEMPT_COUNT_MASK);
    gatePreempt((v & PREEMPT_COUNT_MASK) - (was & PREEMPT_COUNT_MASK));
  }
}

export const cpuCtx: CpuContext = new PerThreadCpu();

// The lock gate (cpu/point_gate.ts) counts the preempt-disabled sections open on this thread:
// preempt_disable() and preempt_enable() move it with the word, the setter above by the change,
// and it is reloaded from this CPU's word when the thread attaches an arena and at every run
// start (shm/thread_config.ts), so might_sleep() reads a preempt count only when it is non-zero.
threadConfig(() => {
  const b = PREEMPT_COUNT.tryBase();
  if (b < 0)
    throw new Error(`the arena has no '${PREEMPT_COUNT.region.name}' region (cpu/machine.ts adds it)`);
  preemptWord0 = b + PREEMPT_COUNT.layout.pcpu;
  thisCpuPreemptWord = preemptWord0 + cpuCtx.cpu + 1;
  gatePreemptSet(Atomics.load(mem.i32, preemptWord0 + cpuCtx.cpu + 1) & PREEMPT_COUNT_MASK);
});

export { point } from './point_gate.js';

export function smp_processor_id(): number {
  return cpuCtx.cpu;
}

/**
 * A decision point before a shared access inside a primitive, at atomic granularity only
 * (cpu/granularity.ts); at the default coarse granularity it costs one test of a number, and in a
 * free-mode campaign with jitter windows it may be one of them (Runner.window).
 */
export function atomicPoint(id: string): void {
  if (atomicGate !== 0) atomicPointSlow(id);
}

function atomicPointSlow(id: string): void {
  if (atomicPoints()) cpuCtx.runner.point(id);
  else if (atomicWindows()) cpuCtx.runner.window?.(id);
}
