// What a CPU does at a preemption point, when it sleeps and when it spins. The free runner lets
// every CPU run at once; the controlled runner (one CPU at a time) implements the same interface.

export type WaitResult = 'ok' | 'not-equal' | 'timed-out';

export interface Runner {
  readonly mode: 'boot' | 'free' | 'controlled';
  /** A preemption point: the kernel can be interrupted here. */
  point(id: string): void;
  /** Free mode: an atomic point at coarse granularity, which only a jitter window can delay. */
  window?(id: string): void;
  /** Futex wait on arena word `addr` while it holds `expected`, for at most `timeoutMs` emulated ms. */
  wait(addr: number, expected: number, timeoutMs: number): WaitResult;
  /** Wake up to `count` CPUs waiting on `addr`. */
  wake(addr: number, count: number): void;
  /** One iteration of a spin loop (cpu_relax); `spins` counts iterations of this loop so far. */
  relax(spins: number): void;
  /** Emulated milliseconds since boot. */
  now(): number;
}
