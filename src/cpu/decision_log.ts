// The decision log: every scheduling decision of a controlled campaign, in order, in shared memory.
//
// Decisions are made wherever the token is (cpu/decide.ts): on a CPU thread when the strategy can
// be rebuilt there from its configuration, else on the main thread. A strategy keeps state across
// decisions and runs (PCT's priorities, DFS's stack), so every thread that decides holds its own
// copy of it, and every copy sees the same calls with the same arguments in the same order: the
// log holds the arguments (the runnable set, the CPU that reached the point) and the pick, and a
// copy catches up by replaying the entries it has not seen (StrategyCopy below) before it decides,
// and while it waits for the token. A strategy is a pure function of those calls (its seed comes
// with beginRun), so the copies agree; the main thread's copy checks every pick it replays.
//
// One writer at a time: the token holder (a CPU, or the main thread between runs and when it
// decides). It writes the entry's words, then publishes them by advancing HEAD. Readers load HEAD,
// then the entries below it. The ring holds two runs' worth of entries (two limits of decisions),
// and every copy has caught up with a run before the run after it begins, so no reader is lapped.
import type { Strategy } from './strategy.js';

const HEAD = 0;
const DATA = 16;

/** Entry kinds (the low 3 bits). */
export enum LogKind {
  /** strategy.pick(runnable, from, step) returned `cpu`; then runAhead(cpu, step) was asked. */
  Pick = 1,
  /** Only spinners could run: the scheduler picked `cpu` itself (strategy.ranAhead(cpu, step, 1)). */
  Spin = 2,
  /** `cpu` passed `n` points on a run-ahead grant (strategy.ranAhead(cpu, step, n)). */
  Ahead = 3,
  /** A run begins: strategy.beginRun(seed, ncpus); the next word is the seed. */
  Begin = 4,
  /** The run stops at this decision (HaltWhy), with the decision's arguments. */
  Halt = 5,
}

/** Why a scheduler stopped a run (a Halt entry). */
export enum HaltWhy {
  /** The run's ABORT word was already set (an Oops, a crash): nothing to report here. */
  Aborted = 0,
  MaxSteps = 1,
  /** strategy.pick() threw: the main thread's copy replays the call for the message. */
  StrategyError = 2,
  /** strategy.ranAhead() refused a spinner pick (a replay whose schedule says otherwise). */
  SpinRefused = 3,
  /** The strategy picked a CPU that is not runnable. */
  NotRunnable = 4,
  DeadlockBlocked = 5,
  DeadlockSpinning = 6,
}

export interface LogEntry {
  kind: LogKind;
  /** Pick, Spin, Halt: the CPU that reached the point (-1: the run's first decision). */
  from: number;
  /** Pick, Spin: the CPU picked; Ahead: the CPU that ran ahead. */
  cpu: number;
  /** Pick, Halt: the runnable CPUs, one bit each. */
  mask: number;
  /** Ahead: points passed; Begin: ncpus; Halt: HaltWhy. */
  n: number;
  /** Begin: the run's seed. */
  seed: number;
}

function encode(kind: LogKind, from: number, cpu: number, mask: number): number {
  return kind | ((from + 1) << 3) | (cpu << 8) | (mask << 12);
}

export class DecisionLog {
  readonly i32: Int32Array;
  readonly capacity: number;

  constructor(readonly sab: SharedArrayBuffer) {
    this.i32 = new Int32Array(sab);
    this.capacity = this.i32.length - DATA;
  }

  /** Entries a log for runs of at most `maxSteps` decisions holds: two runs' worth, and a little. */
  static capacityFor(maxSteps: number): number {
    return 2 * maxSteps + 1024;
  }

  static create(maxSteps: number): DecisionLog {
    return new DecisionLog(new SharedArrayBuffer(4 * (DATA + DecisionLog.capacityFor(maxSteps))));
  }

  /** Entries written so far (not wrapped). */
  head(): number {
    return Atomics.load(this.i32, HEAD);
  }

  /** A copy that starts reading at the current head (a new campaign's first run begins there). */
  reader(): number {
    return this.head();
  }

  /** Appends one word (two with `second`) and publishes it. */
  private put(w: number, second?: number): void {
    const i32 = this.i32;
    const h = Atomics.load(i32, HEAD);
    Atomics.store(i32, DATA + (h % this.capacity), w);
    if (second === undefined) {
      Atomics.store(i32, HEAD, h + 1);
      return;
    }
    Atomics.store(i32, DATA + ((h + 1) % this.capacity), second);
    Atomics.store(i32, HEAD, h + 2);
  }

  pick(from: number, cpu: number, mask: number): void {
    this.put(encode(LogKind.Pick, from, cpu, mask));
  }

  spin(from: number, cpu: number): void {
    this.put(encode(LogKind.Spin, from, cpu, 0));
  }

  ahead(cpu: number, n: number): void {
    this.put(LogKind.Ahead | (cpu << 3) | (n << 7));
  }

  begin(seed: number, ncpus: number): void {
    this.put(LogKind.Begin | (ncpus << 3), seed | 0);
  }

  halt(why: HaltWhy, from: number, mask: number): void {
    this.put(encode(LogKind.Halt, from, why, mask));
  }

  /** The entry at `at`, and where the next one starts. */
  read(at: number, out: LogEntry): number {
    const w = Atomics.load(this.i32, DATA + (at % this.capacity));
    const kind = (w & 7) as LogKind;
    out.kind = kind;
    if (kind === LogKind.Ahead) {
      out.cpu = (w >>> 3) & 15;
      out.n = w >>> 7;
      return at + 1;
    }
    if (kind === LogKind.Begin) {
      out.n = (w >>> 3) & 31;
      out.seed = Atomics.load(this.i32, DATA + ((at + 1) % this.capacity)) >>> 0;
      return at + 2;
    }
    out.from = ((w >>> 3) & 31) - 1;
    out.cpu = (w >>> 8) & 15;
    out.n = out.cpu; // Halt: the reason sits in the CPU field
    out.mask = (w >>> 12) & 0xffff;
    return at + 1;
  }
}

/** The runnable CPUs of a mask, ascending. */
export function maskCpus(mask: number): number[] {
  const cpus: number[] = [];
  for (let c = 0; mask !== 0; c++, mask >>>= 1) if (mask & 1) cpus.push(c);
  return cpus;
}

export function cpusMask(cpus: readonly number[]): number {
  let m = 0;
  for (const c of cpus) m |= 1 << c;
  return m;
}

/**
 * One thread's copy of the campaign's strategy, kept in step with the log. A CPU's copy calls
 * beginRun and endRun itself (at a Begin, the run before it ended after `step` decisions); the main
 * thread's copy is the campaign's own strategy, whose beginRun the machine calls and whose endRun
 * the campaign calls (`ownsRuns` false). RunEnd.failed is not in the log: a CPU's copy sees false,
 * so a strategy that learns from failures must decide on the main thread (Strategy.decidesOnCpus).
 */
export class StrategyCopy {
  /** Decisions of the current run so far. */
  step = 0;
  /** The main thread's copy: every pick of the current run (the schedule). */
  readonly picks: number[] = [];
  /** The last Halt entry of the current run. */
  halt: LogEntry | null = null;
  private at: number;
  private inRun = false;
  private readonly e: LogEntry = { kind: LogKind.Pick, from: -1, cpu: 0, mask: 0, n: 0, seed: 0 };

  constructor(
    readonly strategy: Strategy,
    readonly log: DecisionLog,
    private readonly ownsRuns: boolean,
    private readonly keepPicks = false,
  ) {
    this.at = log.reader();
  }

  /** Replays the entries written since the last call. */
  catchUp(): void {
    const log = this.log;
    const head = log.head();
    while (this.at < head) this.at = this.apply(log.read(this.at, this.e));
  }

  /** After this thread wrote an entry it had already applied to its strategy. */
  skipOwn(): void {
    this.at = this.log.head();
  }

  /** Applied by the writer: the step count and picks, as apply() would record them. */
  recordPicks(cpu: number, n: number): void {
    this.step += n;
    if (this.keepPicks) for (let i = 0; i < n; i++) this.picks.push(cpu);
  }

  private apply(next: number): number {
    const e = this.e;
    const s = this.strategy;
    switch (e.kind) {
      case LogKind.Begin:
        if (this.ownsRuns) {
          if (this.inRun) s.endRun({ steps: this.step, failed: false });
          s.beginRun(e.seed, e.n);
        }
        this.inRun = true;
        this.step = 0;
        this.picks.length = 0;
        this.halt = null;
        break;
      case LogKind.Pick: {
        const got = s.pick(maskCpus(e.mask), e.from, this.step);
        if (got !== e.cpu)
          throw new Error(
            `decision log: at decision ${this.step} ${s.name} picks CPU${got} here, CPU${e.cpu} on the thread that decided`,
          );
        // runAhead() is a question, not an event: the copy that decided asked it; replaying it
        // here would only repeat its scan (DFS's is as long as the stretch it grants).
        this.recordPicks(got, 1);
        break;
      }
      case LogKind.Spin:
        s.ranAhead?.(e.cpu, this.step, 1);
        this.recordPicks(e.cpu, 1);
        break;
      case LogKind.Ahead:
        s.ranAhead?.(e.cpu, this.step, e.n);
        this.recordPicks(e.cpu, e.n);
        break;
      case LogKind.Halt:
        this.halt = { ...e };
        break;
    }
    return next;
  }
}
