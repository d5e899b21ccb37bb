// Controlled mode: exactly one CPU runs at a time, and a strategy picks who runs at every point.
//
// Protocol. The control word C.TOKEN names the CPU allowed to run. A CPU that reaches a point,
// spins, waits or finishes records what it is doing (PC.SCHED, and for a wait the word, the
// expected value and the virtual deadline), hands the token back (TOKEN_DECIDE) and sleeps on
// its own PC.TURN word until the token names it again (or TOKEN_HALT: the run is over, it throws
// CpuStop). Only the main thread sleeps on C.TOKEN, so every handoff wakes exactly one thread.
//
// Where the decision is made: on the MAIN thread (the Decider below). The strategy object keeps
// state across runs (DFS's stack, PCT's step bound), so it lives in one place, and the decision
// sequence depends only on the strategy's seed and on the runnable sets, which depend only on the
// previous decisions: a run is a pure function of (setup, seed, strategy). The main thread spins
// briefly, then sleeps in Atomics.wait while a CPU runs, so a decision costs two handoffs (after a
// 50 ms slice it waits with Atomics.waitAsync, so that a worker's death reaches it: see decide()).
//
// Runnable CPUs at a decision: those at a point; those waiting whose word no longer holds the
// expected value, or that a wake() picked, or whose virtual deadline has passed; spinners only
// when no one else can run (a spinner yields to the CPU it waits for), and then the decider, not
// the strategy, picks the next spinner round-robin: which spinner re-checks first is no real
// choice, and leaving it to a strategy lets DFS branch (or PCT spin one CPU) forever. A spinner
// pick is still a step of the schedule, so replay sees it. When no CPU can run, the
// virtual clock jumps to the earliest deadline; with none pending, the run is a deadlock.
// Every decision advances the virtual clock by VCLOCK_STEP_MS, so spinning and time-based loops
// (rwsem handoff, spin thresholds) make progress deterministically. now() is the virtual clock.
//
// Run-ahead. Most decisions are "the running CPU goes on" (DFS past its preemption bound, replay
// inside a run of one CPU's picks). A strategy can commit to that for the next n decisions
// (Strategy.runAhead); the decider then grants n points with the token (C.AHEAD), the CPU passes
// them locally (advancing the virtual clock as the decider would) and reports how many it used
// (C.AHEAD_USED) when it next hands back. The decisions and the schedule are the same as without
// run-ahead, only two futex round trips per point cheaper.
import { mem } from '../shm/arena.js';
import { cpuCtx } from './context.js';
import {
  AbortReason,
  C,
  ctl,
  f64At,
  PC,
  percpu,
  SchedState,
  setF64At,
  TOKEN_DECIDE,
  TOKEN_HALT,
} from './control.js';
import { CpuStop } from './errors.js';
import type { Runner, WaitResult } from './runner.js';
import type { Strategy } from './strategy.js';

/** Virtual time that one scheduling decision takes (1 µs). */
export const VCLOCK_STEP_MS = 0.001;
/**
 * Decisions in a row with only spinning CPUs before the run is called a spin deadlock: every
 * spinner has had thousands of turns, and time-based spin loops have seen 10 virtual ms go by.
 */
const SPIN_DEADLOCK_DECISIONS = 10_000;
export const DEADLOCK_BLOCKED = 'INFO: deadlock: no CPU can run and no timer is pending';
export const DEADLOCK_SPINNING = `INFO: deadlock: only spinning CPUs could run, ${SPIN_DEADLOCK_DECISIONS} decisions in a row`;
/**
 * Loads of the handoff word before sleeping on it. A handoff between threads that are on cores
 * costs ~170 ns spinning against 2.5-35 µs for a futex wake (35 on an idle 2-vCPU guest, whose
 * vCPUs halt); with more threads than cores a long spin starves the thread that has the token, so
 * it is kept short (MMRACE_HANDOFF_SPINS overrides it, for measuring).
 */
const HANDOFF_SPINS = Number(process.env.MMRACE_HANDOFF_SPINS ?? 2000);

/** Spins while `i32[at]` holds `v`, at most `spins` loads; true when it changed. */
function spinUntilChanged(i32: Int32Array, at: number, v: number, spins: number): boolean {
  for (let i = 0; i < spins; i++) if (Atomics.load(i32, at) !== v) return true;
  return false;
}

/**
 * The decider's wait slice for a handback (ms): the first one blocks the main thread (a handback is
 * usually µs away), the later ones let its event loop run (where a dead worker is reported).
 */
const DECIDER_SLICE_MS = 50;

/** Longest host wait slice while waiting for the token, so a lost notify cannot hang a CPU. */
const TOKEN_WAIT_SLICE_MS = 100;

/** The CPU side: a Runner that runs only while it holds the token. */
export class ControlledRunner implements Runner {
  readonly mode = 'controlled' as const;
  points = 0;
  readonly jitterEvents = 0;
  readonly jitterDigest = 0;
  private readonly token: number;
  private readonly vclock: number;
  /** Points this CPU may still pass without handing the token back, and how many it passed. */
  private ahead = 0;
  private aheadUsed = 0;

  constructor(private readonly cpu: number) {
    this.token = ctl() + C.TOKEN;
    this.vclock = ctl() + C.VCLOCK_F64;
  }

  /** Before the program: wait for the decider to give this CPU the token for the first time. */
  beginRun(_runSeed: number): void {
    this.points = 0;
    this.awaitToken();
  }

  point(_id: string): void {
    this.points++;
    if (this.ahead > 0) {
      this.ahead--;
      this.aheadUsed++;
      const f64 = mem.arena.f64;
      f64[this.vclock >> 1] = f64[this.vclock >> 1]! + VCLOCK_STEP_MS;
      return;
    }
    this.yieldToken(SchedState.Runnable);
  }

  relax(_spins: number): void {
    this.yieldToken(SchedState.Spinning);
  }

  wait(addr: number, expected: number, timeoutMs: number): WaitResult {
    const i32 = mem.i32;
    if (Atomics.load(i32, addr) !== expected) return 'not-equal';
    if (!(timeoutMs > 0)) return 'timed-out';
    Atomics.store(i32, percpu(this.cpu, PC.WAIT_ADDR), addr);
    Atomics.store(i32, percpu(this.cpu, PC.WAIT_EXPECTED), expected);
    Atomics.store(i32, percpu(this.cpu, PC.WOKEN), 0);
    setF64At(
      percpu(this.cpu, PC.WAIT_DEADLINE_F64),
      Number.isFinite(timeoutMs) ? this.now() + timeoutMs : Infinity,
    );
    this.yieldToken(SchedState.Waiting);
    return Atomics.load(i32, percpu(this.cpu, PC.WAIT_RESULT)) === 1 ? 'timed-out' : 'ok';
  }

  wake(addr: number, count: number): void {
    // Futex semantics: mark up to `count` CPUs waiting on `addr` (lowest CPU first) runnable.
    const i32 = mem.i32;
    const n = Atomics.load(i32, ctl() + C.NCPUS);
    for (let c = 0; c < n && count > 0; c++) {
      if (c === this.cpu || Atomics.load(i32, percpu(c, PC.SCHED)) !== SchedState.Waiting) continue;
      if (Atomics.load(i32, percpu(c, PC.WAIT_ADDR)) !== addr) continue;
      if (Atomics.exchange(i32, percpu(c, PC.WOKEN), 1) === 0) count--;
    }
  }

  now(): number {
    return f64At(ctl() + C.VCLOCK_F64);
  }

  /** After the program (returned or threw): give the token back for good. */
  exit(): void {
    const i32 = mem.i32;
    Atomics.store(i32, percpu(this.cpu, PC.SCHED), SchedState.Exited);
    Atomics.store(i32, ctl() + C.FROM, this.cpu);
    Atomics.store(i32, ctl() + C.AHEAD_USED, this.aheadUsed);
    this.ahead = this.aheadUsed = 0;
    if (Atomics.compareExchange(i32, this.token, this.cpu, TOKEN_DECIDE) === this.cpu) {
      Atomics.notify(i32, this.token);
    }
  }

  private yieldToken(state: SchedState): void {
    const i32 = mem.i32;
    Atomics.store(i32, percpu(this.cpu, PC.CURRENT), cpuCtx.current);
    Atomics.store(i32, percpu(this.cpu, PC.SCHED), state);
    Atomics.store(i32, ctl() + C.FROM, this.cpu);
    Atomics.store(i32, ctl() + C.AHEAD_USED, this.aheadUsed);
    this.ahead = this.aheadUsed = 0;
    if (Atomics.compareExchange(i32, this.token, this.cpu, TOKEN_DECIDE) !== this.cpu) throw new CpuStop();
    Atomics.notify(i32, this.token);
    this.awaitToken();
  }

  private awaitToken(): void {
    const i32 = mem.i32;
    const turn = percpu(this.cpu, PC.TURN);
    for (;;) {
      const g = Atomics.load(i32, turn);
      const t = Atomics.load(i32, this.token);
      if (t === this.cpu) {
        this.ahead = Atomics.load(i32, ctl() + C.AHEAD);
        this.aheadUsed = 0;
        return;
      }
      if (t === TOKEN_HALT) throw new CpuStop();
      // Spin a little first: the token often comes back within a few µs, sooner than a futex wake.
      if (spinUntilChanged(i32, turn, g, HANDOFF_SPINS)) continue;
      Atomics.wait(i32, turn, g, TOKEN_WAIT_SLICE_MS);
    }
  }
}

/** A CPU as the decider sees it when nothing can run. */
export interface StalledCpu {
  cpu: number;
  /** `current` when it last handed the token back. */
  task: number;
  state: 'waiting' | 'spinning' | 'exited' | 'runnable';
  /** The word a waiting CPU sleeps on. */
  word: number;
}

export interface ControlledRunResult {
  /** The CPU picked at every decision. */
  picks: number[];
  abort: AbortReason;
  /** Deadlock: one line per CPU that could not run. Step limit or strategy error: why. */
  report: string[];
}

export interface DeciderOptions {
  ncpus: number;
  strategy: Strategy;
  /** The run stops (AbortReason.Halted) after this many decisions. */
  maxSteps: number;
  /** Wall-clock limit of the run (ms): a CPU that never reaches a point. */
  runTimeoutMs: number;
  /** Called once, with the token held by the decider, when only kthread CPUs are left running. */
  kthreadCpus: ReadonlySet<number>;
  stopKthreads(): void;
  /** The deadlock report, from the layers that know what the waited-on words are (kernel locks). */
  describeDeadlock?(cpus: StalledCpu[], headline: string): string[];
}

/**
 * The main-thread side of one controlled run. Call prepare() before starting the CPUs (they all
 * begin by waiting for the token), then decide(), which returns once every CPU has exited or the
 * run was stopped. The caller waits for the CPUs to report DONE.
 */
export class Decider {
  private readonly i32 = mem.i32;
  private readonly b = ctl();
  /** The last runnable() found only spinning CPUs. */
  private spinOnly = false;
  /** Decisions in a row that found only spinning CPUs. */
  private spinStreak = 0;

  constructor(private readonly o: DeciderOptions) {}

  prepare(): void {
    const i32 = this.i32;
    const b = this.b;
    setF64At(b + C.VCLOCK_F64, 0);
    for (let c = 0; c < this.o.ncpus; c++) {
      Atomics.store(i32, percpu(c, PC.SCHED), SchedState.Runnable);
      Atomics.store(i32, percpu(c, PC.WOKEN), 0);
      Atomics.store(i32, percpu(c, PC.WAIT_RESULT), 0);
    }
    Atomics.store(i32, b + C.FROM, -1);
    Atomics.store(i32, b + C.AHEAD, 0);
    Atomics.store(i32, b + C.AHEAD_USED, 0);
    Atomics.store(i32, b + C.TOKEN, TOKEN_DECIDE);
  }

  /**
   * Async only on its slow path: while the token holder runs for longer than a wait slice, the
   * decider waits without blocking the main thread's event loop, because a worker that dies (out of
   * memory) is only reported there; the machine then sets ABORT=Crash, which ends the run.
   */
  async decide(): Promise<ControlledRunResult> {
    const i32 = this.i32;
    const b = this.b;
    const o = this.o;
    const picks: number[] = [];
    const report: string[] = [];
    const t0 = performance.now();
    let kthreadsStopped = o.kthreadCpus.size === 0;
    let first = true;
    this.spinStreak = 0;
    const halt = (why: AbortReason): ControlledRunResult => {
      Atomics.compareExchange(i32, b + C.ABORT, AbortReason.None, why);
      this.handTo(TOKEN_HALT);
      return { picks, abort: Atomics.load(i32, b + C.ABORT), report };
    };
    for (;;) {
      let slices = 0;
      for (let t = Atomics.load(i32, b + C.TOKEN); t !== TOKEN_DECIDE; t = Atomics.load(i32, b + C.TOKEN)) {
        // A CPU crashed (its program called process.exit(), its worker died): it will never hand back.
        if (Atomics.load(i32, b + C.ABORT) === AbortReason.Crash) return halt(AbortReason.Crash);
        if (performance.now() - t0 > o.runTimeoutMs) {
          report.push(`CPU${t} held the token for too long without reaching a point`);
          return halt(AbortReason.Timeout);
        }
        if (spinUntilChanged(i32, b + C.TOKEN, t, HANDOFF_SPINS)) continue;
        if (slices++ === 0) Atomics.wait(i32, b + C.TOKEN, t, DECIDER_SLICE_MS);
        else await Atomics.waitAsync(i32, b + C.TOKEN, t, DECIDER_SLICE_MS).value;
      }
      const from = first ? -1 : Atomics.load(i32, b + C.FROM);
      first = false;
      const used = from >= 0 ? Atomics.load(i32, b + C.AHEAD_USED) : 0;
      if (used > 0) {
        o.strategy.ranAhead?.(from, picks.length, used);
        for (let i = 0; i < used; i++) picks.push(from);
      }
      if (Atomics.load(i32, b + C.ABORT) !== AbortReason.None) return halt(AbortReason.None);
      if (!kthreadsStopped) {
        let userDone = true;
        for (let c = 0; c < o.ncpus && userDone; c++) {
          if (!o.kthreadCpus.has(c) && this.sched(c) !== SchedState.Exited) userDone = false;
        }
        if (userDone) {
          kthreadsStopped = true;
          o.stopKthreads();
        }
      }
      const runnable = this.runnable(from);
      if (runnable === null) {
        // Every CPU exited.
        this.handTo(TOKEN_HALT);
        return { picks, abort: Atomics.load(i32, b + C.ABORT), report };
      }
      if (runnable.length === 0) {
        report.push(...this.deadlockReport(DEADLOCK_BLOCKED));
        return halt(AbortReason.Deadlock);
      }
      if (picks.length >= o.maxSteps) {
        report.push(`the run took more than ${o.maxSteps} scheduling decisions (livelock?)`);
        return halt(AbortReason.Halted);
      }
      let pick: number;
      if (this.spinOnly) {
        // Only spinners can run: not the strategy's choice. The next spinner after the one that
        // just yielded re-checks its condition; within one round the one that can go on does.
        if (++this.spinStreak > SPIN_DEADLOCK_DECISIONS) {
          report.push(...this.deadlockReport(DEADLOCK_SPINNING));
          return halt(AbortReason.Deadlock);
        }
        pick = runnable.find((c) => c > from) ?? runnable[0]!;
        try {
          o.strategy.ranAhead?.(pick, picks.length, 1);
        } catch (e) {
          report.push((e as Error)?.message ?? String(e)); // a replay whose schedule says otherwise
          return halt(AbortReason.Halted);
        }
      } else {
        this.spinStreak = 0;
        try {
          pick = o.strategy.pick(runnable, from, picks.length);
        } catch (e) {
          report.push((e as Error)?.message ?? String(e));
          return halt(AbortReason.Halted);
        }
      }
      if (!runnable.includes(pick)) {
        report.push(`strategy ${o.strategy.name} picked CPU${pick}, which is not runnable`);
        return halt(AbortReason.Halted);
      }
      picks.push(pick);
      setF64At(b + C.VCLOCK_F64, f64At(b + C.VCLOCK_F64) + VCLOCK_STEP_MS);
      Atomics.store(i32, percpu(pick, PC.SCHED), SchedState.Runnable);
      const ahead = this.spinOnly ? 0 : (o.strategy.runAhead?.(pick, picks.length - 1) ?? 0);
      Atomics.store(i32, b + C.AHEAD, Math.max(0, Math.min(ahead, o.maxSteps - picks.length)));
      this.handTo(pick);
    }
  }

  /** Give the token to `cpu` and wake it; TOKEN_HALT wakes every CPU. */
  private handTo(cpu: number): void {
    const i32 = this.i32;
    Atomics.store(i32, this.b + C.TOKEN, cpu);
    for (let c = 0; c < this.o.ncpus; c++) {
      if (cpu !== TOKEN_HALT && c !== cpu) continue;
      Atomics.add(i32, percpu(c, PC.TURN), 1);
      Atomics.notify(i32, percpu(c, PC.TURN));
    }
  }

  private sched(c: number): SchedState {
    return Atomics.load(this.i32, percpu(c, PC.SCHED));
  }

  /**
   * The runnable CPUs, ascending; null when every CPU has exited; [] on a deadlock. Spinners only
   * when no other CPU can run, and then `spinOnly` is set.
   */
  private runnable(from: number): number[] | null {
    this.spinOnly = false;
    const i32 = this.i32;
    const b = this.b;
    const o = this.o;
    const vclock = f64At(b + C.VCLOCK_F64);
    const ready: number[] = [];
    const spinners: number[] = [];
    let live = 0;
    let earliest = Infinity;
    for (let c = 0; c < o.ncpus; c++) {
      const s = this.sched(c);
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
      if (earliest !== Infinity && this.spinStreak >= spinners.length) {
        this.spinStreak = 0;
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

  private deadlockReport(headline: string): string[] {
    const i32 = this.i32;
    const names = ['runnable', 'spinning', 'waiting', 'exited'] as const;
    const cpus: StalledCpu[] = [];
    for (let c = 0; c < this.o.ncpus; c++) {
      cpus.push({
        cpu: c,
        task: Atomics.load(i32, percpu(c, PC.CURRENT)),
        state: names[this.sched(c)],
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
