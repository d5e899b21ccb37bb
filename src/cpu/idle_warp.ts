// Free mode's idle warp: when every CPU of the run is either done or asleep in a timed wait, no CPU
// can do anything before the earliest of those timeouts, so the emulated clock jumps to it instead
// of the host sleeping it out (QEMU's `-icount sleep=off` warps its virtual clock the same way
// when its vCPUs are idle; controlled mode's virtual clock jumps likewise, decide.ts). A v5.18+
// OOM victim's reaper timer (OOM_REAPER_DELAY, 2 s) no longer costs every run 2 emulated seconds
// of host time. Nothing that runs is affected: a CPU in a spin loop, in a jitter delay or blocked
// without a timeout keeps the clock at wall speed.
//
// Words (control block): the warp in emulated ms (added to the clock, clock.ts), the CPUs in timed
// waits, the CPUs in waits without a timeout (for the watchdogs: machineAsleep()), and per CPU its
// wait's deadline in emulated ms (0: not in a timed wait). The main thread
// zeroes them before each run. A CPU that a wake() has just released may not have left its wait
// yet when another CPU warps: the clock then jumps while it starts running again, as a timer
// interrupt can come at any moment; causality is kept, a jump only ends timeouts early.
import { mem } from '../shm/arena.js';
import { C, ctl, PC, percpu } from './control.js';

const INT32_MAX = 0x7fffffff;

/** Emulated ms the warp has added to the clock in this run. */
export function warpMs(): number {
  return Atomics.load(mem.i32, ctl() + C.WARP_MS);
}

/** The main thread, before a run: no warp, nobody waiting. */
export function resetWarp(ncpus: number): void {
  const i32 = mem.i32;
  Atomics.store(i32, ctl() + C.WARP_MS, 0);
  Atomics.store(i32, ctl() + C.TIMED_WAITERS, 0);
  Atomics.store(i32, ctl() + C.UNTIMED_WAITERS, 0);
  for (let c = 0; c < ncpus; c++) Atomics.store(i32, percpu(c, PC.TIMED_WAIT_DEADLINE_MS), 0);
}

/**
 * `cpu` sleeps until emulated `deadlineMs` (Infinity: until a wake); a timed sleep warps the clock
 * if that leaves nobody running.
 */
export function enterWait(cpu: number, deadlineMs: number, nowMs: number): void {
  const i32 = mem.i32;
  if (deadlineMs === Infinity) {
    Atomics.add(i32, ctl() + C.UNTIMED_WAITERS, 1);
    return;
  }
  Atomics.store(
    i32,
    percpu(cpu, PC.TIMED_WAIT_DEADLINE_MS),
    Math.min(INT32_MAX, Math.max(1, Math.ceil(deadlineMs))),
  );
  Atomics.add(i32, ctl() + C.TIMED_WAITERS, 1);
  warpIfIdle(nowMs);
}

/** The end of enterWait()'s sleep, with the same deadline. */
export function leaveWait(cpu: number, deadlineMs: number): void {
  const i32 = mem.i32;
  if (deadlineMs === Infinity) {
    Atomics.sub(i32, ctl() + C.UNTIMED_WAITERS, 1);
    return;
  }
  Atomics.sub(i32, ctl() + C.TIMED_WAITERS, 1);
  Atomics.store(i32, percpu(cpu, PC.TIMED_WAIT_DEADLINE_MS), 0);
}

/** Every CPU of the run is done or asleep: nothing runs until a wake or a timeout. */
export function machineAsleep(): boolean {
  const i32 = mem.i32;
  const b = ctl();
  const asleep =
    Atomics.load(i32, b + C.TIMED_WAITERS) +
    Atomics.load(i32, b + C.UNTIMED_WAITERS) +
    Atomics.load(i32, b + C.DONE);
  return asleep >= Atomics.load(i32, b + C.NCPUS);
}

/**
 * Every CPU done or in a timed wait: the clock jumps to the earliest deadline. Two CPUs that both
 * see the machine idle compute the same target; the compare-exchange lets one of them move it.
 */
export function warpIfIdle(nowMs: number): void {
  const i32 = mem.i32;
  const b = ctl();
  const ncpus = Atomics.load(i32, b + C.NCPUS);
  if (Atomics.load(i32, b + C.TIMED_WAITERS) + Atomics.load(i32, b + C.DONE) < ncpus) return;
  let earliest = INT32_MAX;
  for (let c = 0; c < ncpus; c++) {
    const d = Atomics.load(i32, percpu(c, PC.TIMED_WAIT_DEADLINE_MS));
    if (d > 0 && d < earliest) earliest = d;
  }
  if (earliest === INT32_MAX || earliest <= nowMs) return;
  const old = Atomics.load(i32, b + C.WARP_MS);
  const next = Math.min(INT32_MAX, old + Math.ceil(earliest - nowMs));
  Atomics.compareExchange(i32, b + C.WARP_MS, old, next);
}
