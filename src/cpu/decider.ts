// The main-thread side of controlled runs (controlled.ts has the protocol). Per run: the first
// decision; then, when the CPUs decide, sleep until the run is over or a CPU asks for the main
// thread (the kthreads must be told to stop); when they cannot, every decision. After the run its
// copy of the strategy replays the log: the picks, and why the run was stopped.
import { mem } from '../shm/arena.js';
import { AbortReason, C, ctl, PC, percpu, type SchedState, TOKEN_DECIDE, TOKEN_HALT } from './control.js';
import {
  type ControlledRunResult,
  DEADLOCK_BLOCKED,
  DEADLOCK_SPINNING,
  handTo,
  type StalledCpu,
  spinUntilChanged,
} from './controlled.js';
import { DECIDE_ALL_EXITED, DECIDE_ASK_MAIN, DECIDE_HALT, Scheduler } from './decide.js';
import { type DecisionLog, HaltWhy, type LogEntry, maskCpus } from './decision_log.js';
import type { Strategy } from './strategy.js';

export interface DeciderOptions {
  ncpus: number;
  strategy: Strategy;
  log: DecisionLog;
  /** The CPUs decide (they hold copies of the strategy); else the main thread does, every time. */
  cpusDecide: boolean;
  /**
   * The run's first CPU spins between runs for the next one (controlled.ts awaitControlledRun):
   * only with a core for it beside the main thread's, or it slows the machines that share them.
   */
  firstSpins: boolean;
  /** A run stops (AbortReason.Halted) after this many decisions. */
  maxSteps: number;
  /** Wall-clock limit of a run (ms): a CPU that never reaches a point. */
  runTimeoutMs: number;
  kthreadCpus: readonly number[];
  /** Called once a run, with the token held by the main thread, when only kthread CPUs are left. */
  stopKthreads(): void;
  /** The deadlock report, from the layers that know what the waited-on words are (kernel locks). */
  describeDeadlock?(cpus: StalledCpu[], headline: string): string[];
}

/**
 * The decider's wait slice (ms): the first one blocks the main thread (a handback is usually µs
 * away), the later ones let its event loop run (where a dead worker is reported).
 */
const DECIDER_SLICE_MS = 50;

/**
 * Loads of the token word before the main thread sleeps on it, when it makes every decision (the
 * design the CPUs' decisions replaced, kept as it was measured: the benchmarks' baseline).
 */
const MAIN_HANDOFF_SPINS = 2000;

/** One per controlled campaign: its scheduler holds the main thread's copy of the strategy. */
export class Decider {
  private readonly i32 = mem.i32;
  private readonly b = ctl();
  private readonly sched: Scheduler;
  /** The report of a run this thread stopped (a deadlock's must be written before the CPUs stop). */
  private deadlockLines: string[] | null = null;

  constructor(private readonly o: DeciderOptions) {
    this.sched = new Scheduler(
      o.strategy,
      o.log,
      { ncpus: o.ncpus, maxSteps: o.maxSteps, kthreadCpus: o.kthreadCpus, stopKthreads: o.stopKthreads },
      false,
    );
  }

  /** Before the run's CPUs start (they begin by waiting for the token); the strategy's beginRun was called. */
  prepare(seed: number): void {
    const i32 = this.i32;
    const b = this.b;
    this.sched.beginRun(seed);
    Atomics.store(i32, b + C.FROM, -1);
    Atomics.store(i32, b + C.AHEAD, 0);
    Atomics.store(i32, b + C.AHEAD_USED, 0);
    Atomics.store(i32, b + C.TOKEN, TOKEN_DECIDE);
  }

  /**
   * Runs the decisions that fall to the main thread until the run is over (the run's generation
   * was bumped: the first one's hand-off starts its CPU). Async only on its slow
   * path: while the CPUs run for longer than a wait slice, it waits without blocking the event
   * loop, because a worker that dies (out of memory) is only reported there; the machine then sets
   * ABORT=Crash, which ends the run.
   */
  async decide(): Promise<ControlledRunResult> {
    const i32 = this.i32;
    const b = this.b;
    const t0 = performance.now();
    this.deadlockLines = null;
    let timedOut: string | null = null;
    let mainDecisions = 0;
    for (let from = -1; ; ) {
      mainDecisions++;
      const next = this.decideOnce(from);
      if (next < 0) break;
      const r = await this.awaitMain(t0);
      if (r === 'over') break;
      if (typeof r === 'string') {
        timedOut = r;
        break;
      }
      from = r;
    }
    this.sched.copy.catchUp();
    const abort = Atomics.load(i32, b + C.ABORT) as AbortReason;
    const report = timedOut !== null ? [timedOut] : (this.deadlockLines ?? this.report(this.sched.copy.halt));
    return { picks: this.sched.copy.picks.slice(), abort, report, mainDecisions };
  }

  /** One decision on the main thread; negative when the run is over. */
  private decideOnce(from: number): number {
    const i32 = this.i32;
    const used = from >= 0 && !this.o.cpusDecide ? Atomics.load(i32, this.b + C.AHEAD_USED) : 0;
    this.sched.ranAhead(from, used);
    const next = this.sched.decide(from);
    if (next === DECIDE_ASK_MAIN) throw new Error('decider: the main thread asked itself to decide');
    if (next === DECIDE_ALL_EXITED || next === DECIDE_HALT) {
      // A deadlock's report describes the CPUs where they stopped, before they are stopped.
      this.deadlockLines = this.report(this.sched.copy.halt);
      handTo(TOKEN_HALT, this.o.ncpus);
      return -1;
    }
    Atomics.store(i32, this.b + C.AHEAD, this.sched.ahead);
    if (from === -1 && this.o.firstSpins) Atomics.store(i32, this.b + C.FIRST, next);
    handTo(next, this.o.ncpus);
    return next;
  }

  /**
   * Waits until the token comes back to the main thread: the CPU that handed it back, 'over' when
   * the run ended (or crashed), or the timeout's report line.
   */
  private async awaitMain(t0: number): Promise<number | 'over' | string> {
    const i32 = this.i32;
    const b = this.b;
    const word = this.o.cpusDecide ? b + C.MAIN_REQ : b + C.TOKEN;
    for (let slices = 0; ; ) {
      const g = Atomics.load(i32, word);
      const t = Atomics.load(i32, b + C.TOKEN);
      if (t === TOKEN_DECIDE) return Atomics.load(i32, b + C.FROM);
      if (t === TOKEN_HALT) return 'over';
      // A CPU crashed (its program called process.exit(), its worker died): it will never hand back.
      if (Atomics.load(i32, b + C.ABORT) === AbortReason.Crash) {
        handTo(TOKEN_HALT, this.o.ncpus);
        return 'over';
      }
      if (performance.now() - t0 > this.o.runTimeoutMs) {
        Atomics.compareExchange(i32, b + C.ABORT, AbortReason.None, AbortReason.Timeout);
        handTo(TOKEN_HALT, this.o.ncpus);
        return `CPU${t} held the token for too long without reaching a point`;
      }
      if (!this.o.cpusDecide && spinUntilChanged(i32, word, g, MAIN_HANDOFF_SPINS)) continue;
      if (slices++ === 0) Atomics.wait(i32, word, g, DECIDER_SLICE_MS);
      else await Atomics.waitAsync(i32, word, g, DECIDER_SLICE_MS).value;
    }
  }

  /** Why the scheduler stopped the run, from its Halt entry and the strategy's own words. */
  private report(h: LogEntry | null): string[] {
    if (!h) return [];
    const s = this.sched.strategy;
    const step = this.sched.copy.step;
    const runnable = maskCpus(h.mask);
    switch (h.n as HaltWhy) {
      case HaltWhy.MaxSteps:
        return [`the run took more than ${this.o.maxSteps} scheduling decisions (livelock?)`];
      case HaltWhy.StrategyError:
        return [thrownBy(() => s.pick(runnable, h.from, step))];
      case HaltWhy.SpinRefused: {
        const pick = runnable.find((c) => c > h.from) ?? runnable[0]!;
        return [thrownBy(() => s.ranAhead?.(pick, step, 1))];
      }
      case HaltWhy.NotRunnable:
        return [`strategy ${s.name} picked CPU${s.pick(runnable, h.from, step)}, which is not runnable`];
      case HaltWhy.DeadlockBlocked:
        return this.deadlockReport(DEADLOCK_BLOCKED);
      case HaltWhy.DeadlockSpinning:
        return this.deadlockReport(DEADLOCK_SPINNING);
      default:
        return [];
    }
  }

  private deadlockReport(headline: string): string[] {
    const i32 = this.i32;
    const names = ['runnable', 'spinning', 'waiting', 'exited'] as const;
    const cpus: StalledCpu[] = [];
    for (let c = 0; c < this.o.ncpus; c++) {
      cpus.push({
        cpu: c,
        task: Atomics.load(i32, percpu(c, PC.CURRENT)),
        state: names[Atomics.load(i32, percpu(c, PC.SCHED)) as SchedState],
        word: Atomics.load(i32, percpu(c, PC.WAIT_ADDR)),
      });
    }
    if (this.o.describeDeadlock) return this.o.describeDeadlock(cpus, headline);
    return [
      headline,
      ...cpus.map(
        (c) => `  CPU${c.cpu} (task 0x${c.task.toString(16)}) ${c.state} on word 0x${c.word.toString(16)}`,
      ),
    ];
  }
}

/** The message of what `f` throws (the strategy's own words for a refused decision). */
function thrownBy(f: () => unknown): string {
  try {
    f();
    return 'the strategy refused the decision';
  } catch (e) {
    return (e as Error)?.message ?? String(e);
  }
}
