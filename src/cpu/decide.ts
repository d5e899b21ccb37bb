// One scheduling decision of a controlled run, made by whoever holds the token: a CPU thread (its
// copy of the strategy) or the main thread (the campaign's). See controlled.ts for the protocol.
//
// Runnable CPUs at a decision: those at a point; those waiting whose word no longer holds the
// expected value, or that a wake() picked, or whose virtual deadline has passed; spinners only
// when no one else can run (a spinner yields to the CPU it waits for), and then the scheduler, not
// the strategy, picks the next spinner round-robin: which spinner re-checks first is no real
// choice, and leaving it to a strategy lets DFS branch (or PCT spin one CPU) forever. A spinner
// pick is still a step of the schedule, so replay sees it. When no CPU can run, the virtual clock
// jumps to the earliest deadline; with none pending, the run is a deadlock. Every decision
// advances the virtual clock by VCLOCK_STEP_MS, so spinning and time-based loops (rwsem handoff,
// spin thresholds) make progress deterministically.
import { mem } from '../shm/arena.js';
import { AbortReason, C, ctl, f64At, PC, percpu, SchedState, setF64At, storeIfChanged } from './control.js';
import { cpusMask, type DecisionLog, HaltWhy, StrategyCopy } from './decision_log.js';
import type { Strategy } from './strategy.js';

/** Virtual time that one scheduling decision takes (1 µs). */
export const VCLOCK_STEP_MS = 0.001;
/**
 * Decisions in a row with only spinning CPUs before the run is called a spin deadlock: every
 * spinner has had thousands of turns, and time-based spin loops have seen 10 virtual ms go by.
 */
export const SPIN_DEADLOCK_DECISIONS = 10_000;

/** decide() results besides a CPU number. */
export const DECIDE_ALL_EXITED = -1;
/** The run is over: ABORT was set, or the scheduler stopped it (a Halt entry says why). */
export const DECIDE_HALT = -2;
/**
 * The main thread must decide: only kthreads are left and they must be told to stop, or no CPU
 * can run, and the deadlock report must be written while every CPU is still where it stopped.
 */
export const DECIDE_ASK_MAIN = -3;

export interface SchedulerOptions {
  ncpus: number;
  /** The run stops after this many decisions. */
  maxSteps: number;
  kthreadCpus: readonly number[];
  /**
   * Tells the kthreads to stop: the main thread's hook, or on a CPU the campaign entry's own
   * (cpu_loop.ts CpuEntryModule.kthreadStopper), which does the same to the arena without a
   * round trip to the main thread. Without it, a CPU's decide() asks the main thread.
   */
  stopKthreads?: () => void;
}

export class Scheduler {
  readonly copy: StrategyCopy;
  private readonly i32 = mem.i32;
  private readonly b = ctl();
  private readonly kthreads: Set<number>;
  /** Points the picked CPU may pass on its own (run-ahead), set by the last decide(). */
  ahead = 0;
  /** The last runnable() found only spinning CPUs. */
  private spinOnly = false;
  /** A CPU's scheduler: the main thread writes a deadlock's report (DECIDE_ASK_MAIN). */
  private readonly onCpu: boolean;
  private stopKthreads: (() => void) | undefined;

  constructor(
    strategy: Strategy,
    readonly log: DecisionLog,
    private readonly o: SchedulerOptions,
    /** A CPU's copy (it calls beginRun/endRun from the log) or the main thread's (keeps picks). */
    cpuCopy: boolean,
  ) {
    this.copy = new StrategyCopy(strategy, log, cpuCopy, !cpuCopy);
    this.kthreads = new Set(o.kthreadCpus);
    this.onCpu = cpuCopy;
    this.stopKthreads = o.stopKthreads;
  }

  /** On a CPU: the campaign entry's kthread stopper (see SchedulerOptions.stopKthreads). */
  setKthreadStopper(stop: () => void): void {
    this.stopKthreads = stop;
  }

  get strategy(): Strategy {
    return this.copy.strategy;
  }

  /** Main thread, before a run's CPUs start: the shared per-run state. */
  beginRun(seed: number): void {
    const i32 = this.i32;
    const b = this.b;
    this.copy.catchUp();
    this.log.begin(seed, this.o.ncpus);
    this.copy.catchUp();
    setF64At(b + C.VCLOCK_F64, 0);
    for (let c = 0; c < this.o.ncpus; c++) {
      Atomics.store(i32, percpu(c, PC.SCHED), SchedState.Runnable);
      Atomics.store(i32, percpu(c, PC.WOKEN), 0);
      Atomics.store(i32, percpu(c, PC.WAIT_RESULT), 0);
    }
    Atomics.store(i32, b + C.SPIN_STREAK, 0);
    Atomics.store(i32, b + C.KTHREADS_STOPPED, this.kthreads.size === 0 ? 1 : 0);
  }

  /** `cpu` passed `n` points on its run-ahead grant: recorded before its next decision. */
  ranAhead(cpu: number, n: number): void {
    if (n <= 0) return;
    this.copy.catchUp();
    this.strategy.ranAhead?.(cpu, this.copy.step, n);
    this.log.ahead(cpu, n);
    this.copy.skipOwn();
    this.copy.recordPicks(cpu, n);
  }

  /**
   * The decision at a point `from` reached (-1: the run's first): the CPU to run next, or one of
   * the DECIDE_* results. Sets `ahead` for the CPU picked.
   */
  decide(from: number): number {
    const i32 = this.i32;
    const b = this.b;
    const copy = this.copy;
    copy.catchUp();
    this.ahead = 0;
    if (Atomics.load(i32, b + C.ABORT) !== AbortReason.None) return this.halt(HaltWhy.Aborted, from, 0);
    if (this.kthreads.size > 0 && Atomics.load(i32, b + C.KTHREADS_STOPPED) === 0 && this.usersDone()) {
      if (!this.stopKthreads) return DECIDE_ASK_MAIN;
      Atomics.store(i32, b + C.KTHREADS_STOPPED, 1);
      this.stopKthreads();
    }
    const runnable = this.runnable(from);
    if (runnable === null) return DECIDE_ALL_EXITED;
    const mask = cpusMask(runnable);
    if (runnable.length === 0) return this.deadlock(HaltWhy.DeadlockBlocked, from, 0);
    if (copy.step >= this.o.maxSteps) return this.halt(HaltWhy.MaxSteps, from, mask);
    let pick: number;
    if (this.spinOnly) {
      // Only spinners can run: not the strategy's choice. The next spinner after the one that
      // just yielded re-checks its condition; within one round the one that can go on does.
      if (Atomics.add(i32, b + C.SPIN_STREAK, 1) + 1 > SPIN_DEADLOCK_DECISIONS)
        return this.deadlock(HaltWhy.DeadlockSpinning, from, mask);
      pick = runnable.find((c) => c > from) ?? runnable[0]!;
      try {
        this.strategy.ranAhead?.(pick, copy.step, 1);
      } catch {
        return this.halt(HaltWhy.SpinRefused, from, mask);
      }
      this.log.spin(from, pick);
    } else {
      storeIfChanged(i32, b + C.SPIN_STREAK, 0);
      try {
        pick = this.strategy.pick(runnable, from, copy.step);
      } catch {
        return this.halt(HaltWhy.StrategyError, from, mask);
      }
      if (!runnable.includes(pick)) return this.halt(HaltWhy.NotRunnable, from, mask);
      const ahead = this.strategy.runAhead?.(pick, copy.step) ?? 0;
      this.ahead = Math.max(0, Math.min(ahead, this.o.maxSteps - copy.step - 1));
      this.log.pick(from, pick, mask);
    }
    copy.skipOwn();
    copy.recordPicks(pick, 1);
    setF64At(b + C.VCLOCK_F64, f64At(b + C.VCLOCK_F64) + VCLOCK_STEP_MS);
    storeIfChanged(i32, percpu(pick, PC.SCHED), SchedState.Runnable);
    return pick;
  }

  /** A deadlock: on a CPU, nothing changed but the spin streak, and the main thread decides again. */
  private deadlock(why: HaltWhy, from: number, mask: number): number {
    return this.onCpu ? DECIDE_ASK_MAIN : this.halt(why, from, mask);
  }

  /** Stops the run: ABORT gets the reason (unless it was set already), and the log says why. */
  private halt(why: HaltWhy, from: number, mask: number): number {
    const i32 = this.i32;
    const reason =
      why === HaltWhy.Aborted
        ? AbortReason.None
        : why === HaltWhy.DeadlockBlocked || why === HaltWhy.DeadlockSpinning
          ? AbortReason.Deadlock
          : AbortReason.Halted;
    Atomics.compareExchange(i32, this.b + C.ABORT, AbortReason.None, reason);
    this.log.halt(why, from, mask);
    this.copy.catchUp(); // its own Halt entry: the copy keeps it, for the report
    return DECIDE_HALT;
  }

  private usersDone(): boolean {
    for (let c = 0; c < this.o.ncpus; c++) {
      if (!this.kthreads.has(c) && Atomics.load(this.i32, percpu(c, PC.SCHED)) !== SchedState.Exited)
        return false;
    }
    return true;
  }

  /**
   * The runnable CPUs, ascending; null when every CPU has exited; [] on a deadlock. Spinners only
   * when no other CPU can run, and then `spinOnly` is set.
   */
  private runnable(from: number): number[] | null {
    this.spinOnly = false;
    const i32 = this.i32;
    const b = this.b;
    const vclock = f64At(b + C.VCLOCK_F64);
    const ready: number[] = [];
    const spinners: number[] = [];
    let live = 0;
    let earliest = Infinity;
    for (let c = 0; c < this.o.ncpus; c++) {
      const s = Atomics.load(i32, percpu(c, PC.SCHED));
      if (s === SchedState.Exited) continue;
      live++;
      if (s === SchedState.Runnable) ready.push(c);
      else if (s === SchedState.Spinning) spinners.push(c);
      else {
        const addr = Atomics.load(i32, percpu(c, PC.WAIT_ADDR));
        const deadline = f64At(percpu(c, PC.WAIT_DEADLINE_F64));
        if (
          Atomics.load(i32, percpu(c, PC.WOKEN)) !== 0 ||
          Atomics.load(i32, addr) !== Atomics.load(i32, percpu(c, PC.WAIT_EXPECTED))
        ) {
          Atomics.store(i32, percpu(c, PC.WAIT_RESULT), 0);
          ready.push(c);
        } else if (deadline <= vclock) {
          Atomics.store(i32, percpu(c, PC.WAIT_RESULT), 1);
          ready.push(c);
        } else earliest = Math.min(earliest, deadline);
      }
    }
    if (live === 0) return null;
    if (ready.length > 0) return ready;
    if (spinners.length > 0) {
      // The others sleep on timers: once every spinner has spun again, the time they would spin
      // until the earliest timer fires is idle time, so the clock jumps there.
      if (earliest !== Infinity && Atomics.load(i32, b + C.SPIN_STREAK) >= spinners.length) {
        Atomics.store(i32, b + C.SPIN_STREAK, 0);
        setF64At(b + C.VCLOCK_F64, earliest);
        return this.runnable(from);
      }
      this.spinOnly = true;
      return spinners;
    }
    if (earliest === Infinity) return [];
    // Nothing can run before a timer fires: jump the virtual clock to the earliest one.
    setF64At(b + C.VCLOCK_F64, earliest);
    return this.runnable(from);
  }
}
