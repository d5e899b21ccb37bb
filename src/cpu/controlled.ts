// Controlled mode: exactly one CPU runs at a time, and a strategy picks who runs at every point.
//
// Protocol. The control word C.TOKEN names the CPU allowed to run. A CPU that reaches a point,
// spins, waits or finishes records what it is doing (PC.SCHED, and for a wait the word, the
// expected value and the virtual deadline) and then the next CPU is decided (decide.ts).
//
// Where the decision is made. When the campaign's strategy can be rebuilt on the CPU threads from
// its configuration (every --strategy), the CPU that holds the token decides itself, with its own
// copy of the strategy kept in step through the decision log (decision_log.ts), and hands the
// token straight to the CPU picked: one handoff per switch, none when it picks itself. The main
// thread makes each run's first decision, tells the kthreads to stop when only they are left
// (a CPU hands it the token for that), and otherwise sleeps until the run is over. Otherwise (a
// strategy object given to the machine, --record's follow) the CPU hands the token back to the
// main thread (TOKEN_DECIDE) at every decision, which decides and hands it on: two handoffs.
// Either way the decisions are the same calls on the same strategy state, so the schedules are.
//
// Waiting for the token: a CPU spins on the token word itself (replaying the log meanwhile), so
// that a handoff to a spinning CPU is the one store that moves the token: no write to the
// receiver's own words, whose cache line would then travel to the giver and back. Then it sleeps
// on its PC.TURN word, saying so in PC.SLEEPING first and looking at the token once more; the giver
// stores the token, then bumps and notifies TURN only if it sees SLEEPING. Both sides store, then
// load the other's word (sequentially consistent), so at least one sees the other: a sleeper
// either finds the token in its second look or is woken.
// When the run's CPUs fit the host's cores, a CPU preempted at a point (or spinning) spins long;
// otherwise briefly: with more CPU threads than cores, a spinner takes the core that the CPU just
// handed the token to needs when it wakes (one long spinner beside the holder, tried, made DFS
// runs on 3 CPUs 1.7x slower on 2 cores). A CPU blocked in a wait spins briefly: its word must
// change first. "Long" adapts, as
// glibc's adaptive mutex does: it halves each time the spin ran out (the holder ran long, or
// other processes took the cores and the holder is not running) and doubles each time the token
// came while spinning, between HANDOFF_SPINS and HANDOFF_SPINS_ON_CORES.
//
// Run-ahead. Most decisions are "the running CPU goes on" (DFS past its preemption bound, replay
// inside a run of one CPU's picks). A strategy can commit to that for the next n decisions
// (Strategy.runAhead); the CPU then passes n points locally (advancing the virtual clock as a
// decision would) and records how many it used (a log entry) before its next decision.
import { mem } from '../shm/arena.js';
import { cpuCtx } from './context.js';
import {
  type AbortReason,
  C,
  ctl,
  f64At,
  PC,
  percpu,
  SchedState,
  setF64At,
  storeIfChanged,
  TOKEN_DECIDE,
  TOKEN_HALT,
} from './control.js';
import { DECIDE_ASK_MAIN, type Scheduler, SPIN_DEADLOCK_DECISIONS, VCLOCK_STEP_MS } from './decide.js';
import { CpuStop } from './errors.js';
import type { Runner, WaitResult } from './runner.js';

export { VCLOCK_STEP_MS } from './decide.js';
export const DEADLOCK_BLOCKED = 'INFO: deadlock: no CPU can run and no timer is pending';
export const DEADLOCK_SPINNING = `INFO: deadlock: only spinning CPUs could run, ${SPIN_DEADLOCK_DECISIONS} decisions in a row`;
/**
 * Loads of the handoff word before sleeping on it. A handoff between threads that are on cores
 * costs ~170 ns spinning against 2.5-35 µs for a futex wake (35 on an idle 2-vCPU guest, whose
 * vCPUs halt); with more threads than cores a spin takes the core that the thread just handed
 * the token needs, so it is kept to a few hundred ns (MMRACE_HANDOFF_SPINS overrides it, for
 * measuring). A token passed round three threads on two cores, 5 µs of work each: 19.4 µs a
 * handoff at 0 or 200 loads, 29 µs at 2,000 (2-vCPU guest); a DFS of the 2017 scenario hands
 * the token back within 2,000 loads at ~5% of its handoffs.
 */
export const HANDOFF_SPINS = Number(process.env.MMRACE_HANDOFF_SPINS ?? 200);
/** When the run's CPUs fit the cores: about a millisecond of spinning before sleeping. */
export const HANDOFF_SPINS_ON_CORES = 200_000;

/** Spins while `i32[at]` holds `v`, at most `spins` loads; true when it changed. */
export function spinUntilChanged(i32: Int32Array, at: number, v: number, spins: number): boolean {
  for (let i = 0; i < spins; i++) if (Atomics.load(i32, at) !== v) return true;
  return false;
}

/** Loads of the turn word between two looks at the decision log while waiting for the token. */
const SPIN_CHUNK = 1024;

/**
 * How long the first CPU of a controlled run spins for the next run before it sleeps: the main
 * thread's part between two runs (outcome, grading, the strategy, the snapshot's restore) is
 * 40-60 µs for the 2017 scenario on a 2-vCPU guest (MMRACE_BETWEEN_RUNS_SPIN_MS overrides it,
 * for measuring).
 */
const BETWEEN_RUNS_SPIN_MS = Number(process.env.MMRACE_BETWEEN_RUNS_SPIN_MS ?? 0.2);

/** Longest host wait slice while waiting for the token, so a lost notify cannot hang a CPU. */
const TOKEN_WAIT_SLICE_MS = 100;

/**
 * Main thread: gives the token to `cpu`, waking it if it sleeps; TOKEN_HALT wakes every CPU that
 * has not finished the run, and the main thread's own later waits.
 */
export function handTo(cpu: number, ncpus: number): void {
  Atomics.store(mem.i32, ctl() + C.TOKEN, cpu);
  if (cpu !== TOKEN_HALT) {
    wakeCpu(cpu);
    return;
  }
  wakeUnfinished(ncpus);
  wakeMain();
}

/**
 * The run was halted: every CPU that may still wait for the token (one not started yet among
 * them) must see it. A CPU whose program ended sleeps between runs and is left asleep.
 */
function wakeUnfinished(ncpus: number): void {
  const i32 = mem.i32;
  for (let c = 0; c < ncpus; c++) {
    if (Atomics.load(i32, percpu(c, PC.SCHED)) !== SchedState.Exited) wakeCpu(c);
  }
}

/** After the token word moved: a CPU that spins on it sees it; one that sleeps gets a futex wake. */
function wakeCpu(cpu: number): void {
  const i32 = mem.i32;
  if (Atomics.load(i32, percpu(cpu, PC.SLEEPING)) === 0) return;
  Atomics.add(i32, percpu(cpu, PC.TURN), 1);
  Atomics.notify(i32, percpu(cpu, PC.TURN));
}

/** Wakes the main thread from its wait for the run's end (or for a decision it was asked for). */
export function wakeMain(): void {
  const i32 = mem.i32;
  Atomics.add(i32, ctl() + C.MAIN_REQ, 1);
  Atomics.notify(i32, ctl() + C.MAIN_REQ);
}

/** A CPU that decides: its copy of the strategy, and the host's cores (how long it spins). */
export interface CpuScheduler {
  scheduler: Scheduler;
  cores: number;
}

/** The CPU side: a Runner that runs only while it holds the token. */
export class ControlledRunner implements Runner {
  readonly mode = 'controlled' as const;
  points = 0;
  readonly jitterEvents = 0;
  readonly jitterDigest = 0;
  private readonly token: number;
  private readonly vclock: number;
  private readonly ncpus: number;
  /** Points this CPU may still pass without a decision, and how many it passed. */
  private ahead = 0;
  private aheadUsed = 0;
  /** The adaptive long spin (see the top of this file). */
  private spinLong = HANDOFF_SPINS_ON_CORES;

  constructor(
    private readonly cpu: number,
    /** Decisions on this thread; without it the main thread makes them. */
    private readonly own: CpuScheduler | null = null,
  ) {
    this.token = ctl() + C.TOKEN;
    this.vclock = ctl() + C.VCLOCK_F64;
    this.ncpus = Atomics.load(mem.i32, ctl() + C.NCPUS);
  }

  /** The CPU's copy of the campaign's scheduler, when it decides. */
  get scheduler(): Scheduler | null {
    return this.own?.scheduler ?? null;
  }

  /** Before the program: wait for the token for the first time (the main thread's first pick). */
  beginRun(_runSeed: number): void {
    this.points = 0;
    this.ahead = this.aheadUsed = 0;
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

  /** After the program (returned or threw): give the token away for good. */
  exit(): void {
    const i32 = mem.i32;
    Atomics.store(i32, percpu(this.cpu, PC.SCHED), SchedState.Exited);
    if (Atomics.load(i32, this.token) !== this.cpu) return; // the run was stopped
    this.handOver(false);
  }

  private yieldToken(state: SchedState): void {
    const i32 = mem.i32;
    // Loaded first: an unchanged word is not stored, so this CPU's line stays shared with the
    // CPU that decides next (it reads PC.SCHED of every CPU) instead of moving to and fro.
    storeIfChanged(i32, percpu(this.cpu, PC.CURRENT), cpuCtx.current);
    storeIfChanged(i32, percpu(this.cpu, PC.SCHED), state);
    if (this.handOver(true)) return;
    this.awaitToken();
  }

  /**
   * Decides the next CPU (or asks the main thread to) and hands the token over. True when this
   * CPU picked itself and goes on.
   */
  private handOver(running: boolean): boolean {
    const i32 = mem.i32;
    const own = this.own;
    if (!own) {
      Atomics.store(i32, ctl() + C.FROM, this.cpu);
      Atomics.store(i32, ctl() + C.AHEAD_USED, this.aheadUsed);
      this.ahead = this.aheadUsed = 0;
      this.pass(TOKEN_DECIDE, running);
      return false;
    }
    const s = own.scheduler;
    s.ranAhead(this.cpu, this.aheadUsed);
    this.ahead = this.aheadUsed = 0;
    const next = s.decide(this.cpu);
    if (next === this.cpu) {
      this.ahead = s.ahead;
      return true;
    }
    if (next >= 0) {
      storeIfChanged(i32, ctl() + C.AHEAD, s.ahead);
      this.pass(next, running);
    } else if (next === DECIDE_ASK_MAIN) {
      Atomics.store(i32, ctl() + C.FROM, this.cpu);
      Atomics.store(i32, ctl() + C.AHEAD_USED, 0);
      this.pass(TOKEN_DECIDE, running);
      wakeMain();
    } else {
      // DECIDE_ALL_EXITED or DECIDE_HALT: the run is over.
      this.pass(TOKEN_HALT, running);
      if (running) throw new CpuStop();
    }
    return false;
  }

  /** Hands the token from this CPU to `to`; a stopped run (the token is not ours) stops us. */
  private pass(to: number, running: boolean): void {
    const i32 = mem.i32;
    if (Atomics.compareExchange(i32, this.token, this.cpu, to) !== this.cpu) {
      if (running) throw new CpuStop();
      return;
    }
    if (to === TOKEN_DECIDE) Atomics.notify(i32, this.token);
    // The main thread is woken once, by the last CPU to report the run (cpu_loop.ts).
    else if (to === TOKEN_HALT) wakeUnfinished(this.ncpus);
    else wakeCpu(to);
  }

  /** Loads of the turn word before sleeping (see the top of this file). */
  private spinBudget(): number {
    const own = this.own;
    if (!own || this.ncpus > own.cores) return HANDOFF_SPINS;
    if (Atomics.load(mem.i32, percpu(this.cpu, PC.SCHED)) === SchedState.Waiting) return HANDOFF_SPINS;
    return this.spinLong;
  }

  private awaitToken(): void {
    const i32 = mem.i32;
    const turn = percpu(this.cpu, PC.TURN);
    const sleeping = percpu(this.cpu, PC.SLEEPING);
    const copy = this.own?.scheduler.copy;
    const long = this.spinBudget();
    const adapt = long === this.spinLong && this.own !== null && this.ncpus <= this.own.cores;
    let budget = long;
    for (;;) {
      const t = Atomics.load(i32, this.token);
      if (t === this.cpu) {
        this.ahead = Atomics.load(i32, ctl() + C.AHEAD);
        this.aheadUsed = 0;
        // Adapt the long spin: doubled when the token came while spinning, halved when not.
        if (adapt) {
          const next = budget > 0 ? long * 2 : long >> 1;
          this.spinLong = Math.max(HANDOFF_SPINS, Math.min(HANDOFF_SPINS_ON_CORES, next));
        }
        return;
      }
      if (t === TOKEN_HALT) throw new CpuStop();
      // Replay what the others decided meanwhile, so that the next decision here starts at once.
      copy?.catchUp();
      if (budget > 0) {
        const chunk = Math.min(budget, SPIN_CHUNK);
        budget -= chunk;
        spinUntilChanged(i32, this.token, t, chunk);
        continue;
      }
      const g = Atomics.load(i32, turn);
      Atomics.store(i32, sleeping, 1);
      if (Atomics.load(i32, this.token) === t) Atomics.wait(i32, turn, g, TOKEN_WAIT_SLICE_MS);
      Atomics.store(i32, sleeping, 0);
    }
  }
}

/**
 * Between controlled runs a CPU sleeps on its turn word, as it does for the token: the main thread
 * starts a run by bumping RUN_GEN without a wake and handing the token to the first CPU picked,
 * so only that one wakes; each other CPU starts its run when the token or the run's halt first
 * reaches it. The new RUN_GEN, or null once the campaign is over.
 */
export function awaitControlledRun(cpu: number, gen: number): number | null {
  const i32 = mem.i32;
  const b = ctl();
  const turn = percpu(cpu, PC.TURN);
  const sleeping = percpu(cpu, PC.SLEEPING);
  // The last run's first CPU is most likely the next one's too (DFS changes its first decisions
  // last; replay never): while the main thread prepares the run, no other thread of the machine
  // runs, so it waits spinning and its start costs no futex wake.
  if (Atomics.load(i32, b + C.FIRST) === cpu) {
    const until = performance.now() + BETWEEN_RUNS_SPIN_MS;
    while (Atomics.load(i32, b + C.RUN_GEN) === gen && Atomics.load(i32, b + C.STOP) === 0) {
      if (spinUntilChanged(i32, b + C.RUN_GEN, gen, SPIN_CHUNK)) break;
      if (performance.now() > until) break;
    }
  }
  for (;;) {
    if (Atomics.load(i32, b + C.STOP) !== 0) return null;
    const g = Atomics.load(i32, b + C.RUN_GEN);
    if (g !== gen) return g;
    const t = Atomics.load(i32, turn);
    Atomics.store(i32, sleeping, 1);
    if (Atomics.load(i32, b + C.RUN_GEN) === gen && Atomics.load(i32, b + C.STOP) === 0)
      Atomics.wait(i32, turn, t, TOKEN_WAIT_SLICE_MS);
    Atomics.store(i32, sleeping, 0);
  }
}

/**
 * Wakes every CPU asleep between runs: when the campaign is over, and at a run's start when the
 * CPUs fit the cores (they then wait for the token spinning).
 */
export function wakeAllCpus(ncpus: number): void {
  const i32 = mem.i32;
  for (let c = 0; c < ncpus; c++) {
    Atomics.add(i32, percpu(c, PC.TURN), 1);
    Atomics.notify(i32, percpu(c, PC.TURN));
  }
}

/** A CPU as the main thread sees it when the run stopped for lack of a CPU that can run. */
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
  /** Decisions the main thread made (the first, and when asked; all of them when the CPUs cannot). */
  mainDecisions: number;
}
