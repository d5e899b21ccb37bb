// A machine for single-threaded unit tests: the arena and kernel state on the test's thread, run
// by the boot CPU (no workers). Multi-CPU tests use scenario fixtures on the real worker path.

import { cpuCtx } from '../../src/cpu/context.js';
import { logRead } from '../../src/cpu/logring.js';
import { Machine } from '../../src/cpu/machine.js';
import type { Runner } from '../../src/cpu/runner.js';
import { applyEra, eraByName } from '../../src/eras/index.js';
import { kernelReset, machineRegions } from '../../src/scenarios/kernel_image.js';

let machine: Machine | undefined;

/** A fresh kernel on this thread, with `era` applied; returns the log reader. */
export function boot(era = 'v4.15'): { dmesg: () => string[] } {
  machine ??= new Machine(machineRegions(256));
  machine.attach();
  kernelReset();
  const profile = eraByName(era);
  if (!profile) throw new Error(`no era ${era}`);
  applyEra(profile);
  cpuCtx.current = 0;
  cpuCtx.preemptCount = 0;
  return { dmesg: () => logRead().records.map((r) => r.text) };
}

/** Lines that a kernel developer would call a report. */
export function reports(lines: readonly string[]): string[] {
  return lines.filter((l) => /^(BUG: |WARNING: |kernel BUG|Oops)/.test(l));
}

/**
 * Like `inner`, but a spin loop that runs `limit` iterations throws: on one thread nobody can end
 * the wait (a lock never released, a count left odd), and the boot runner's relax() does nothing.
 */
export function spinGuard(inner: Runner, limit = 100_000): Runner {
  return {
    mode: inner.mode,
    point: (id) => inner.point(id),
    wait: (addr, expected, timeoutMs) => inner.wait(addr, expected, timeoutMs),
    wake: (addr, count) => inner.wake(addr, count),
    relax: (spins) => {
      if (spins >= limit) throw new Error(`spun ${spins} times on one thread: nobody can end this wait`);
      inner.relax(spins);
    },
    now: () => inner.now(),
  };
}
