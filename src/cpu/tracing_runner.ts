// A Runner that records waits and wake-ups into this CPU's trace buffer around the real runner
// (free or controlled), so neither runner knows about tracing. cpu_loop installs it as the CPU's
// runner for the runs that are traced; the kernel's sleeps and wakes all go through it.
import type { Runner, WaitResult } from './runner.js';
import { traceWaitBegin, traceWaitEnd, traceWakeBegin, traceWakeEnd, WaitCode } from './trace_buffer.js';

const CODE: Record<WaitResult, WaitCode> = {
  ok: WaitCode.Ok,
  'not-equal': WaitCode.NotEqual,
  'timed-out': WaitCode.TimedOut,
};

export class TracingRunner implements Runner {
  constructor(
    readonly inner: Runner,
    private readonly cpu: number,
  ) {}

  get mode(): Runner['mode'] {
    return this.inner.mode;
  }

  point(id: string): void {
    this.inner.point(id);
  }

  wait(addr: number, expected: number, timeoutMs: number): WaitResult {
    traceWaitBegin(addr);
    let code = WaitCode.Stopped;
    try {
      const r = this.inner.wait(addr, expected, timeoutMs);
      code = CODE[r];
      return r;
    } finally {
      traceWaitEnd(code);
    }
  }

  wake(addr: number, count: number): void {
    traceWakeBegin(addr, count, this.cpu);
    try {
      this.inner.wake(addr, count);
    } finally {
      traceWakeEnd();
    }
  }

  relax(spins: number): void {
    this.inner.relax(spins);
  }

  now(): number {
    return this.inner.now();
  }
}
