// The control block: the words through which the main thread and the CPU workers run a campaign.
import { mem } from '../shm/arena.js';

export const MAX_CPUS = 16;
const PERCPU_WORDS = 16;

/**
 * A crashed CPU's report as JSON (crash.ts), for the crashes that no message carries: the worker
 * thread ends in process.exit() before it can answer, or it hangs after reporting (16 KiB).
 */
export const CRASH_TEXT_WORDS = 4096;
const CRASH_TEXT = 64 + MAX_CPUS * PERCPU_WORDS;

export const CONTROL_REGION = { name: 'control', words: CRASH_TEXT + CRASH_TEXT_WORDS };

/** Word offsets inside the control region. */
export const C = {
  RUN_GEN: 0, // bumped by the main thread to start a run; workers wait on it
  STOP: 1, // 1: the campaign is over, workers return
  ABORT: 2, // why the current run stops early (AbortReason), 0 while it runs
  ABORT_CPU: 3,
  DONE: 4, // CPUs that finished the current run
  NCPUS: 5, // CPUs taking part in the campaign
  TIME_SCALE_X1000: 6, // emulated time runs this many thousandths as fast as wall time
  BOOT_EPOCH_F64: 8, // (two words) wall-clock ms of boot, as a float64
  RUN_INDEX: 10,
  READY: 11, // CPUs attached and waiting for their first run
  RUN_STOP: 12, // 1: the main thread asks the run's programs to finish (torture_must_stop())
  // Controlled mode (controlled.ts): the CPU allowed to run, or TOKEN_DECIDE / TOKEN_HALT.
  TOKEN: 13,
  VCLOCK_F64: 14, // (two words) the virtual clock, emulated ms, as a float64
  FROM: 16, // the CPU that last handed the token back to the decider
  AHEAD: 7, // points the token holder may pass without handing the token back (run-ahead); beside TOKEN, in its cache line
  AHEAD_USED: 18, // how many of them it passed, written when it hands the token back
  CRASH_CLAIM: 19, // 1 once a CPU claimed CRASH_TEXT for its crash report (the first crash wins)
  CRASH_LEN: 20, // bytes of that report, stored after the text (0: still being written)
  // Controlled mode, the scheduler's per-run state (decide.ts), shared by whoever decides:
  SPIN_STREAK: 21, // decisions in a row that found only spinning CPUs
  KTHREADS_STOPPED: 22, // 1 once the kthread CPUs were told to stop (or there are none)
  MAIN_REQ: 23, // bumped (and notified) when a CPU hands the token to the main thread or halts
  // Free mode's idle warp (idle_warp.ts): emulated ms added to the clock, CPUs in timed waits.
  WARP_MS: 24,
  TIMED_WAITERS: 25,
  UNTIMED_WAITERS: 26, // free mode: CPUs asleep in a wait with no timeout (idle_warp.ts)
  FIRST: 27, // controlled mode: the CPU the run's first decision picked (-1: none yet)
  PERCPU: 64,
  CRASH_TEXT,
} as const;

/** Per-CPU words (offset from C.PERCPU + cpu * PERCPU_WORDS). */
export const PC = {
  STATE: 0, // CpuState
  CURRENT: 1, // task running on it
  POINTS: 2, // preemption points passed in the last run
  JITTER_EVENTS: 3,
  JITTER_DIGEST: 4,
  // Controlled mode only:
  SCHED: 5, // SchedState
  WAIT_ADDR: 6, // the arena word a Waiting CPU waits on
  WAIT_EXPECTED: 7, // ... while it holds this value
  WAIT_DEADLINE_F64: 8, // (two words) virtual ms at which the wait times out (Infinity: never)
  // Free mode only, in the same slot: the emulated ms at which this CPU's timed wait ends, 0 when
  // it is not in one (idle_warp.ts).
  TIMED_WAIT_DEADLINE_MS: 8,
  WAIT_RESULT: 10, // 0: woken, 1: timed out (written by the decider)
  WOKEN: 11, // 1: a wake() on WAIT_ADDR picked this CPU
  TURN: 12, // bumped by the decider when it gives this CPU the token (or halts): the CPU sleeps on it
  // Free mode only: wall ms since boot (+1) when the CPU's current spin loop began, 0 when it is
  // not spinning; the soft-lockup watchdog reads it (with PC.CURRENT, written at the same time).
  SPIN_SINCE: 13,
  // The worker thread (worker_threads.threadId) running this CPU in the current campaign: the main
  // thread maps a dead worker to its CPU by it.
  THREAD_ID: 14,
  // Controlled mode: 1 while the CPU sleeps in Atomics.wait on TURN (a hand-off then notifies).
  SLEEPING: 15,
} as const;

export enum CpuState {
  Idle = 0,
  Running = 1,
  Done = 2,
  Oops = 3,
  Crashed = 4,
  Stopped = 5,
}

/** Controlled mode: what a CPU did when it last handed the token back. */
export enum SchedState {
  Runnable = 0, // at a point(): may go on
  Spinning = 1, // in a spin loop (relax): runs only when no other CPU can
  Waiting = 2, // in wait(): runs once its word changes, a wake() picks it or its timeout passes
  Exited = 3, // its program returned or threw
}

export const TOKEN_DECIDE = -1;
export const TOKEN_HALT = -2;

export enum AbortReason {
  None = 0,
  Oops = 1, // a kernel Oops killed one CPU's task: the run stops, the campaign goes on
  Crash = 2, // a CPU's program threw: the campaign stops
  Timeout = 3, // the main thread gave up waiting
  Deadlock = 4, // controlled mode: no CPU can run and no timeout is pending
  Halted = 5, // controlled mode: the decider stopped the run (step limit, strategy error)
  Hung = 6, // free mode: the hung-task watchdog reported a blocked task; the CPUs are stopped
}

/** The arena ctl() last looked the control region up in, and its base there. */
let ctlArena: object | null = null;
let ctlBase = 0;

/** Base of the control block: one region lookup per arena (it is on every scheduling path). */
export function ctl(): number {
  if (mem.arena !== ctlArena) {
    ctlBase = mem.arena.region(CONTROL_REGION.name).base;
    ctlArena = mem.arena;
  }
  return ctlBase;
}

export function percpu(cpu: number, field: number): number {
  return ctl() + C.PERCPU + cpu * PERCPU_WORDS + field;
}

/** The main thread asked the current run to stop: long-running programs poll this and return. */
export function runStopRequested(): boolean {
  return Atomics.load(mem.i32, ctl() + C.RUN_STOP) !== 0;
}

/**
 * Stores `v` at `at` unless the word already holds it: a load keeps the cache line shared with the
 * other CPUs that read it, where a store of the same value would take it from them.
 */
export function storeIfChanged(i32: Int32Array, at: number, v: number): void {
  if (Atomics.load(i32, at) !== v) Atomics.store(i32, at, v);
}

export function f64At(word: number): number {
  return mem.arena.f64[word >> 1]!;
}

export function setF64At(word: number, v: number): void {
  mem.arena.f64[word >> 1] = v;
}

export function bootEpoch(): number {
  const at = ctl() + C.BOOT_EPOCH_F64;
  return mem.arena.f64[at >> 1]!;
}

export function setBootEpoch(ms: number): void {
  const at = ctl() + C.BOOT_EPOCH_F64;
  mem.arena.f64[at >> 1] = ms;
}
