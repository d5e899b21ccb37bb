// Per-CPU trace buffers in the arena: what `--trace` records of a run. Each CPU appends fixed-size
// records (function enter/exit, lock holds, waits, wake-ups, BUG markers) to its own ring; the main
// thread reads every ring after the run (src/report/trace.ts turns them into a Chrome trace).
//
// Cost when off: every hook starts with one test of a module-level boolean, set per run from the
// arena's enable word by the CPU itself. Bounded when on: a ring of TRACE_CAP records per CPU
// keeps the newest records (a failure is at the end of a run); the reader counts what was lost.
//
// Record: [kind | aux << 8, a, timestamp (float64, two words)]. Timestamps are milliseconds: in
// free mode real time (performance.now() plus this thread's offset to the shared boot epoch, so
// every thread's stamps are on one clock), in controlled mode the virtual clock.
import { mem } from '../shm/arena.js';
import { intern, strAt } from '../shm/strtab.js';
import { bootEpoch, C, ctl, MAX_CPUS } from './control.js';
import { logRead } from './logring.js';
import { gateTracing } from './point_gate.js';

/** Records kept per CPU (a power of two). */
export const TRACE_CAP = 1 << 14;
const REC = 4;

const T_ENABLED = 0;
const T_FLOW = 1; // last flow id handed out
const T_MODE = 2; // 0 free, 1 controlled
const T_PERCPU = 16;
const PCW = 4; // per-CPU control words:
const P_COUNT = 0; // records written this run (the ring holds the last TRACE_CAP)
const P_WAIT_ADDR = 1; // the arena word this CPU waits on (0: not waiting)
const P_FLOW = 2; // a wake-up flow addressed to this CPU, taken when its wait returns
const T_BUFS = T_PERCPU + MAX_CPUS * PCW;

export const TRACE_REGION = { name: 'trace', words: T_BUFS + MAX_CPUS * TRACE_CAP * REC };

export enum TraceKind {
  RunBegin = 1,
  RunEnd = 2, // aux: the CPU's end state (CpuState)
  FnBegin = 3, // a: name id
  FnEnd = 4, // a: name id
  WaitBegin = 5, // a: the word waited on
  WaitEnd = 6, // aux: WaitCode
  WakeBegin = 7, // a: the word woken
  WakeEnd = 8,
  FlowOut = 9, // a: flow id, aux: the CPU woken
  FlowIn = 10, // a: flow id
  LockAcquire = 11, // a: lock address, aux: LockKind
  LockRelease = 12, // a: lock address, aux: LockKind
  Mark = 13, // a: log sequence number of the printk line (-1: the log ring was full)
}

export enum LockKind {
  Spin = 1,
  Read = 2,
  Write = 3,
}

export enum WaitCode {
  Ok = 0,
  NotEqual = 1,
  TimedOut = 2,
  Stopped = 3, // the wait threw (the run was stopped)
}

/** The printk lines that get an instant marker: the detector reports. */
export const TRACE_MARK_LINE = /^(BUG: |WARNING: |kernel BUG |Oops|INFO: task |general protection fault)/;

/** A function name for traceBegin/traceEnd: interned in the arena's string table on first use. */
export interface TraceFn {
  readonly name: string;
  id: number;
  arena: unknown;
}

export function traceFn(name: string): TraceFn {
  return { name, id: 0, arena: undefined };
}

// --- this thread's recording state (one CPU per worker thread) ---
// `var`: every traceBegin/traceEnd and lock hook tests `on`; a module `let` costs a TDZ hole check
// per read (see cpu/point_gate.ts).
var on = false;
let tb = 0; // the trace region
let cpuBase = 0; // per-CPU control words
let buf = 0; // first record
let count = 0;
let i32: Int32Array = new Int32Array(0);
let f64: Float64Array = new Float64Array(0);
let controlled = false;
let vclockAt = 0; // f64 index of the virtual clock
let clockOffset = 0; // free mode: performance.now() + clockOffset = ms since the boot epoch

function regionBase(): number {
  const r = mem.arena.regions.find((x) => x.name === TRACE_REGION.name);
  return r ? r.base : -1;
}

/** Is this thread recording? */
export function tracing(): boolean {
  return on;
}

/**
 * A CPU at the start of a run: record if the main thread armed tracing (traceArm). Returns
 * whether it records; the caller then runs the kernel on a TracingRunner.
 */
export function traceCpuBegin(cpu: number, mode: 'free' | 'controlled'): boolean {
  on = false;
  gateTracing(false);
  const b = regionBase();
  if (b < 0 || Atomics.load(mem.i32, b + T_ENABLED) === 0) return false;
  i32 = mem.i32;
  f64 = mem.arena.f64;
  tb = b;
  cpuBase = b + T_PERCPU + cpu * PCW;
  buf = b + T_BUFS + cpu * TRACE_CAP * REC;
  count = 0;
  Atomics.store(i32, cpuBase + P_COUNT, 0);
  Atomics.store(i32, cpuBase + P_WAIT_ADDR, 0);
  Atomics.store(i32, cpuBase + P_FLOW, 0);
  controlled = mode === 'controlled';
  vclockAt = (ctl() + C.VCLOCK_F64) >> 1;
  clockOffset = performance.timeOrigin - bootEpoch();
  on = true;
  gateTracing(true);
  rec(TraceKind.RunBegin, 0, 0);
  return true;
}

/** A CPU at the end of a run (its program returned or threw): record how it ended, stop. */
export function traceCpuEnd(state: number): void {
  if (!on) return;
  rec(TraceKind.RunEnd, 0, state);
  Atomics.store(i32, cpuBase + P_WAIT_ADDR, 0);
  on = false;
  gateTracing(false);
}

function rec(kind: number, a: number, aux: number): void {
  const r = buf + (count & (TRACE_CAP - 1)) * REC;
  i32[r] = kind | (aux << 8);
  i32[r + 1] = a;
  f64[(r + 2) >> 1] = controlled ? f64[vclockAt]! : performance.now() + clockOffset;
  count++;
  i32[cpuBase + P_COUNT] = count; // published to the main thread by the CPU's DONE increment
}

/** `fn`'s id in the current arena's name table, interned on its first use there. */
function fnId(fn: TraceFn): number {
  if (fn.arena !== mem.arena) {
    fn.id = intern(fn.name);
    fn.arena = mem.arena;
  }
  return fn.id;
}

/** Entering kernel function `fn`: pair with traceEnd(fn) on every way out (try/finally). */
export function traceBegin(fn: TraceFn): void {
  if (on) rec(TraceKind.FnBegin, fnId(fn), 0);
}

export function traceEnd(fn: TraceFn): void {
  if (on) rec(TraceKind.FnEnd, fnId(fn), 0);
}

/** This CPU now holds `lock` (a rwsem for read or write, or a spinlock). */
export function traceLockAcquired(lock: number, kind: LockKind): void {
  if (on) rec(TraceKind.LockAcquire, lock, kind);
}

/** This CPU is about to release `lock`. */
export function traceLockReleased(lock: number, kind: LockKind): void {
  if (on) rec(TraceKind.LockRelease, lock, kind);
}

/** printk wrote `line` as log record `seq`: a marker if it is a detector report. */
export function traceMark(seq: number, line: string): void {
  if (on && TRACE_MARK_LINE.test(line)) rec(TraceKind.Mark, seq, 0);
}

/** TracingRunner: this CPU is about to wait on `addr`. */
export function traceWaitBegin(addr: number): void {
  if (!on) return;
  rec(TraceKind.WaitBegin, addr, 0);
  Atomics.store(i32, cpuBase + P_FLOW, 0);
  Atomics.store(i32, cpuBase + P_WAIT_ADDR, addr);
}

/** TracingRunner: the wait returned (or threw); a wake-up addressed to this CPU ends its flow here. */
export function traceWaitEnd(code: WaitCode): void {
  if (!on) return;
  Atomics.store(i32, cpuBase + P_WAIT_ADDR, 0);
  const flow = Atomics.exchange(i32, cpuBase + P_FLOW, 0);
  if (flow !== 0) rec(TraceKind.FlowIn, flow, 0);
  rec(TraceKind.WaitEnd, 0, code);
}

/**
 * TracingRunner, before the real wake: a flow to each of up to `n` CPUs (lowest first, as the
 * controlled runner picks them) that wait on `addr` right now. In free mode the host futex may
 * wake another waiter of the same word; task state words have one waiter, so this is exact there.
 */
export function traceWakeBegin(addr: number, n: number, self: number): void {
  if (!on) return;
  rec(TraceKind.WakeBegin, addr, 0);
  const ncpus = Atomics.load(i32, ctl() + C.NCPUS);
  for (let c = 0; c < ncpus && n > 0; c++) {
    const p = tb + T_PERCPU + c * PCW;
    if (c === self || Atomics.load(i32, p + P_WAIT_ADDR) !== addr) continue;
    const id = Atomics.add(i32, tb + T_FLOW, 1) + 1;
    if (Atomics.compareExchange(i32, p + P_FLOW, 0, id) !== 0) continue;
    rec(TraceKind.FlowOut, id, c);
    n--;
  }
}

export function traceWakeEnd(): void {
  if (on) rec(TraceKind.WakeEnd, 0, 0);
}

// --- main thread ---

/**
 * Before a run (main thread): arm or disarm recording for the run's CPUs. Disarming costs one
 * store; a machine without the trace region ignores both.
 */
export function traceArm(enabled: boolean, mode: 'free' | 'controlled'): void {
  const b = regionBase();
  if (b < 0) {
    if (enabled) throw new Error('this machine has no trace region');
    return;
  }
  const w = mem.i32;
  if (enabled) {
    Atomics.store(w, b + T_FLOW, 0);
    Atomics.store(w, b + T_MODE, mode === 'controlled' ? 1 : 0);
    for (let c = 0; c < MAX_CPUS; c++) {
      const p = b + T_PERCPU + c * PCW;
      Atomics.store(w, p + P_COUNT, 0);
      Atomics.store(w, p + P_WAIT_ADDR, 0);
      Atomics.store(w, p + P_FLOW, 0);
    }
  }
  Atomics.store(w, b + T_ENABLED, enabled ? 1 : 0);
}

export interface TraceEvent {
  kind: TraceKind;
  /** Milliseconds: free mode real time since the machine's boot epoch, controlled mode virtual. */
  ts: number;
  a: number;
  aux: number;
}

export interface TraceCpuEvents {
  cpu: number;
  /** Oldest first. */
  events: TraceEvent[];
  /** Records overwritten by the ring before the run ended (the oldest ones). */
  dropped: number;
}

/** One run's recording, self-contained: the events, the function names and the marked log lines. */
export interface TraceSnapshot {
  mode: 'free' | 'controlled';
  cpus: TraceCpuEvents[];
  /** Function name ids (TraceKind.FnBegin/FnEnd `a`) to names. */
  names: Record<number, string>;
  /** Log sequence numbers (TraceKind.Mark `a`) to the printk line. */
  marks: Record<number, string>;
}

/** After a run (main thread, the CPUs quiescent): copy the rings of CPUs 0..ncpus-1 out. */
export function traceSnapshot(ncpus: number): TraceSnapshot {
  const b = regionBase();
  if (b < 0) throw new Error('this machine has no trace region');
  const w = mem.i32;
  const d = mem.arena.f64;
  const names: Record<number, string> = {};
  const marks: Record<number, string> = {};
  const wanted = new Set<number>();
  const cpus: TraceCpuEvents[] = [];
  for (let cpu = 0; cpu < ncpus; cpu++) {
    const n = Atomics.load(w, b + T_PERCPU + cpu * PCW + P_COUNT);
    const first = Math.max(0, n - TRACE_CAP);
    const base = b + T_BUFS + cpu * TRACE_CAP * REC;
    const events: TraceEvent[] = [];
    for (let k = first; k < n; k++) {
      const r = base + (k & (TRACE_CAP - 1)) * REC;
      const head = w[r]!;
      const ev: TraceEvent = { kind: head & 0xff, ts: d[(r + 2) >> 1]!, a: w[r + 1]!, aux: head >> 8 };
      if ((ev.kind === TraceKind.FnBegin || ev.kind === TraceKind.FnEnd) && !(ev.a in names))
        names[ev.a] = strAt(ev.a);
      if (ev.kind === TraceKind.Mark) wanted.add(ev.a);
      events.push(ev);
    }
    cpus.push({ cpu, events, dropped: first });
  }
  if (wanted.size > 0) {
    for (const r of logRead().records) if (wanted.has(r.seq)) marks[r.seq] = r.text;
  }
  return { mode: Atomics.load(w, b + T_MODE) === 1 ? 'controlled' : 'free', cpus, names, marks };
}
