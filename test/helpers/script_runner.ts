// The boot CPU playing several CPUs, for deterministic single-thread tests of cross-CPU waits:
// onCpu() runs kernel code as another CPU (its reader word and preempt count), and ScriptRunner
// hands every point, spin and futex wait of the code under test to a script that plays the others.
import { emulatedNow } from '../../src/cpu/clock.js';
import { cpuCtx } from '../../src/cpu/context.js';
import type { Runner, WaitResult } from '../../src/cpu/runner.js';

/** Runs `f` as CPU `cpu` would: its reader word, its preempt count (both per-CPU, in the arena). */
export function onCpu<T>(cpu: number, f: () => T): T {
  const saved = cpuCtx.cpu;
  cpuCtx.cpu = cpu;
  try {
    return f();
  } finally {
    cpuCtx.cpu = saved;
  }
}

/**
 * A runner for the boot CPU that never blocks: every point, spin and futex wait is an event handed
 * to `script`, which plays the other CPUs. A wait that nobody ends would spin forever, so the
 * number of events is capped.
 */
export class ScriptRunner implements Runner {
  readonly mode = 'boot' as const;
  events: string[] = [];
  /** Addresses that wake() was called on. */
  woken: number[] = [];
  private busy = false;
  constructor(
    private readonly script: (ev: string, n: number) => void,
    private readonly cap = 100_000,
  ) {}
  private ev(e: string): void {
    if (this.busy) return; // the script's own kernel calls are not events
    this.events.push(e);
    if (this.events.length > this.cap) throw new Error(`no progress after ${this.cap} events`);
    this.busy = true;
    try {
      this.script(e, this.events.length);
    } finally {
      this.busy = false;
    }
  }
  point(id: string): void {
    this.ev(id);
  }
  wait(_addr: number, _expected: number, _timeoutMs: number): WaitResult {
    this.ev('wait');
    return 'timed-out';
  }
  wake(addr: number, _count: number): void {
    this.woken.push(addr);
  }
  relax(_spins: number): void {
    this.ev('relax');
  }
  now(): number {
    return emulatedNow();
  }
}
