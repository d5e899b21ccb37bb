// The main-thread side of a machine: the arena, the tinypool whose threads are the CPUs (started
// once, reused by every campaign), and the run protocol through the control block.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import Tinypool from 'tinypool';
import { Arena, type RegionSpec, useArena } from '../shm/arena.js';
import { wallNow } from './clock.js';
import { cpuCtx, PREEMPT_COUNT } from './context.js';
import { AbortReason, C, CpuState, ctl, MAX_CPUS, PC, percpu, setBootEpoch } from './control.js';
import { type StalledCpu, wakeAllCpus } from './controlled.js';
import type { CpuTask, CpuTaskResult } from './cpu_loop.js';
import { type CpuCrash, clearPublishedCrash } from './crash.js';
import { CrashWatch } from './crash_watch.js';
import { Decider } from './decider.js';
import { DecisionLog } from './decision_log.js';
import { BootRunner } from './free.js';
import type { PointGranularity } from './granularity.js';
import { resetWarp } from './idle_warp.js';
import type { JitterConfig } from './jitter.js';
import { threadEntry } from './own_modules.js';
import { MAX_SCHEDULE_DECISIONS } from './schedule.js';
import type { StrategyConfig } from './strategies/index.js';
import { type Strategy, strategyState } from './strategy.js';

/** The cores this thread's machines may count on (`--machines N` shares the host's: shareCores). */
let coresShare = availableParallelism();

/**
 * `--machines N`: this host process's machine gets its share of the host's cores, at least one.
 * How long a CPU spins for the token, and whether one spins between runs, depend on whether the
 * machine's CPU threads have cores to themselves: with N machines they have a share.
 */
export function shareCores(machines: number): void {
  coresShare = Math.max(1, Math.floor(availableParallelism() / machines));
}

export interface CampaignSpec {
  entry: string;
  entryArgs: unknown;
  ncpus: number;
  runs: number;
  seed: number;
  jitter: JitterConfig;
  /** Emulated time runs this much faster than wall time. */
  timeScale: number;
  /** A run that has not finished after this long is aborted as hung. */
  runTimeoutMs: number;
  /** CPUs running kernel threads: they are told to stop once every other CPU is done. */
  kthreadCpus: readonly number[];
  /** How often (ms) the main thread calls `hooks.tick` while a run goes on (default 50). */
  tickMs?: number;
  /** free (the default): every CPU at once, with jitter. controlled: one CPU at a time. */
  mode?: 'free' | 'controlled';
  /** Scheduling granularity (cpu/granularity.ts); default coarse. */
  points?: PointGranularity;
  /**
   * Controlled mode: picks the CPU at every decision (on the main thread). The machine calls its
   * beginRun(seed + run, ncpus) before each run; endRun is the hooks' business (they know whether
   * the run failed). `hooks.tick` is not called in controlled mode.
   */
  strategy?: Strategy;
  /**
   * Controlled mode: the configuration `strategy` was made from (makeStrategy). With it the CPU
   * threads make the decisions, each with a copy of the strategy (controlled.ts); without it, or
   * for a strategy that cannot decide there (Strategy.decidesOnCpus), the main thread does. The
   * copies end every run themselves, so the hooks must call `strategy.endRun` after every run they
   * go on from, as campaign.ts does (else the copies and `strategy` part, which the main thread
   * finds at its next decision and throws).
   */
  strategyConfig?: StrategyConfig;
  /** Controlled mode: a run that takes more decisions than this is stopped (default MAX_SCHEDULE_DECISIONS). */
  maxSteps?: number;
  /** Controlled mode: the deadlock report (default: the waited-on words only). */
  describeDeadlock?(cpus: StalledCpu[], headline: string): string[];
  /** The scenario's name of each CPU, for crash reports (`CPU1 (thrower) crashed: ...`). */
  cpuNames?: readonly string[];
}

export interface CpuOutcome {
  state: CpuState;
  points: number;
  jitterEvents: number;
  jitterDigest: number;
}

export interface RunOutcome {
  run: number;
  abort: AbortReason;
  abortCpu: number;
  cpus: CpuOutcome[];
  wallMs: number;
  /** Controlled mode: the CPU picked at every decision. */
  picks?: number[];
  /** Controlled mode: the deadlock report, or why the decider stopped the run. */
  report?: string[];
  /** Controlled mode: the decisions the main thread made (decider.ts). */
  mainDecisions?: number;
}

export interface CampaignHooks {
  /** Main thread, before each run: reset the arena and build the run's initial state. */
  setup(run: number): void;
  /** Every CPU that is not a kthread has finished: stop the kthreads. */
  stopKthreads(run: number): void;
  /** Main thread, after each run. Return false to end the campaign early. */
  finish(outcome: RunOutcome): boolean;
  /**
   * Main thread, about every `spec.tickMs` while the run's CPUs work (periodic statistics, a
   * time limit). Return true to ask every CPU to stop: the control word C.RUN_STOP is set, which
   * long-running programs poll (runStopRequested()); the run then ends when they have returned.
   * Not called again once a stop was asked for.
   */
  tick?(run: number, elapsedMs: number): boolean;
}

export interface CampaignResult {
  runs: number;
  wallMs: number;
  crash?: CpuCrash;
  timedOut?: RunOutcome;
}

export class MachineError extends Error {}

/** A controlled run's decision limit. */
function maxStepsOf(spec: CampaignSpec): number {
  return spec.maxSteps ?? MAX_SCHEDULE_DECISIONS;
}

/** How long the main thread waits for a crashed CPU's report to arrive before it takes the
 * published copy (ms). */
const CRASH_REPORT_WAIT_MS = 1000;

/**
 * The CPU workers' V8 heap limit (MB): a program that allocates without bound is reported as out of
 * memory on its CPU instead of taking the process down. MMRACE_CPU_HEAP_MB overrides it.
 */
function cpuHeapMb(): number {
  const env = process.env.MMRACE_CPU_HEAP_MB;
  if (env === undefined || env === '') return 2048;
  const mb = Number(env);
  if (!Number.isInteger(mb) || mb < 16) {
    throw new MachineError(`MMRACE_CPU_HEAP_MB must be a whole number of MB, at least 16; got '${env}'`);
  }
  return mb;
}

/** A CPU worker's or a machine host process's entry (own_modules.ts threadEntry()), once built. */
export function builtThreadEntry(kind: 'cpu' | 'host'): { file: string; execArgv: string[] | undefined } {
  const w = threadEntry(kind);
  if (!existsSync(w.file))
    throw new MachineError(`worker entry ${w.file} is missing: run 'npm run build' first`);
  return w;
}

export class Machine {
  readonly arena: Arena;
  private pool: Tinypool | null = null;
  private poolThreads = 0;
  private heapMb = 2048;
  /** Every thread the pool started has ended. */
  private poolExited: Promise<void> = Promise.resolve();
  /** The running campaign's crash watch: the pool's worker events go to it. */
  private watch: CrashWatch | null = null;
  /** Controlled campaigns whose CPUs decide: the decisions, shared with them. */
  private log: DecisionLog | null = null;

  readonly regions: readonly RegionSpec[];

  constructor(regions: readonly RegionSpec[]) {
    // Every machine has its CPUs' preempt counts (cpu/context.ts), a bare one for CPU-layer tests too.
    const preempt = PREEMPT_COUNT.region;
    this.regions = regions.some((r) => r.name === preempt.name) ? regions : [...regions, preempt];
    this.arena = Arena.create(this.regions);
    this.attach();
    setBootEpoch(wallNow());
    Atomics.store(this.arena.i32, ctl() + C.TIME_SCALE_X1000, 1000);
  }

  /** Make this machine the one the main thread's kernel code works on. */
  attach(): void {
    useArena(this.arena);
    cpuCtx.cpu = -1;
    cpuCtx.runner = new BootRunner();
    cpuCtx.current = 0;
    cpuCtx.preemptCount = 0;
  }

  private ensurePool(n: number): Tinypool {
    if (this.pool && this.poolThreads >= n) return this.pool;
    if (this.pool) void this.pool.destroy();
    this.heapMb = cpuHeapMb();
    const { file, execArgv } = builtThreadEntry('cpu');
    const pool = new Tinypool({
      filename: file,
      ...(execArgv ? { execArgv } : {}),
      minThreads: n,
      maxThreads: n,
      isolateWorkers: false,
      idleTimeout: 0,
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb },
    });
    this.watchWorkers(pool);
    this.pool = pool;
    this.poolThreads = n;
    return pool;
  }

  /**
   * Tinypool settles a task when its worker emits 'error' (out of memory), but not when the
   * thread just ends (process.exit()): that task would never settle. Every thread's end goes to
   * the running campaign's watch; a pool error outside a task would otherwise be thrown.
   */
  private watchWorkers(pool: Tinypool): void {
    // A pool being replaced or torn down is no campaign's business. Between campaigns, a worker
    // that died only means the pool must not be reused.
    const current = () => this.pool === pool;
    const drop = () => {
      if (current() && !this.watch) void this.destroy();
    };
    pool.on('error', (e: unknown) => {
      if (current()) this.watch?.poolError(e);
      drop();
    });
    const exits: Promise<void>[] = [];
    for (const w of pool.threads) {
      let error: unknown;
      w.on('error', (e: unknown) => {
        error = e;
      });
      exits.push(
        new Promise((r) => {
          w.on('exit', (code: number) => {
            if (current()) this.watch?.workerExit(w.threadId, code, error);
            drop();
            r();
          });
        }),
      );
    }
    this.poolExited = Promise.all(exits).then(() => {});
  }

  async campaign(spec: CampaignSpec, hooks: CampaignHooks): Promise<CampaignResult> {
    if (!Number.isInteger(spec.ncpus) || spec.ncpus < 1 || spec.ncpus > MAX_CPUS) {
      throw new MachineError(`ncpus must be 1..${MAX_CPUS}, got ${spec.ncpus}`);
    }
    const tickMs = spec.tickMs ?? 50;
    if (!(tickMs > 0)) throw new MachineError(`tickMs must be positive, got ${spec.tickMs}`);
    if (spec.mode === 'controlled' && !spec.strategy)
      throw new MachineError('controlled mode needs a strategy');
    this.attach();
    this.resetControl(spec);
    const pool = this.ensurePool(spec.ncpus);
    const deciding = this.decidingOnCpus(spec);
    const watch = new CrashWatch(() => this.attach(), this.arena.i32, spec.ncpus, this.heapMb, spec.cpuNames);
    this.watch = watch;
    // While the CPUs run, the main thread awaits only Atomics.waitAsync and worker events, and
    // neither keeps Node's event loop alive: were every worker gone (process.exit(), out of
    // memory), Node would end the process silently with "unsettled top-level await" (exit 13).
    const keepAlive = setInterval(() => {}, 1 << 30);
    try {
      const tasks = this.startCpus(pool, spec, deciding).map((p, cpu) => watch.task(cpu, p));
      await this.waitReady(spec.ncpus, watch);
      const t0 = performance.now();
      const { runs, timedOut } = await this.runAll(spec, hooks, watch, tickMs, deciding !== null);
      const wallMs = performance.now() - t0;
      await this.endCampaign(tasks, watch, timedOut !== undefined);
      const crash = watch.crash;
      return { runs, wallMs, ...(crash ? { crash } : {}), ...(timedOut && !crash ? { timedOut } : {}) };
    } catch (e) {
      // A hook threw (a scenario's setup in a later run, a bug of ours): no CPU may be left
      // waiting for a run that never comes, nor the pool busy with their tasks.
      this.stopCpus();
      await this.destroy();
      throw e;
    } finally {
      clearInterval(keepAlive);
      this.watch = null;
    }
  }

  private resetControl(spec: CampaignSpec): void {
    const i32 = this.arena.i32;
    const b = ctl();
    Atomics.store(i32, b + C.STOP, 0);
    Atomics.store(i32, b + C.ABORT, AbortReason.None);
    Atomics.store(i32, b + C.FIRST, -1);
    Atomics.store(i32, b + C.NCPUS, spec.ncpus);
    Atomics.store(i32, b + C.TIME_SCALE_X1000, Math.round(spec.timeScale * 1000));
    Atomics.store(i32, b + C.READY, 0);
    for (let cpu = 0; cpu < MAX_CPUS; cpu++) Atomics.store(i32, percpu(cpu, PC.THREAD_ID), 0);
    clearPublishedCrash();
  }

  /**
   * Controlled mode with a strategy the CPUs can rebuild: what each CPU needs to decide. The
   * strategy's state crosses over as it stands (a sharded campaign's probe run taught it), and
   * every copy starts reading the log where the main thread's does.
   */
  private decidingOnCpus(spec: CampaignSpec): CpuTask['decide'] | null {
    const cfg = spec.strategyConfig;
    if (spec.mode !== 'controlled' || !cfg || !spec.strategy?.decidesOnCpus) return null;
    const maxSteps = maxStepsOf(spec);
    return {
      strategy: cfg,
      state: strategyState(spec.strategy),
      log: this.decisionLog(maxSteps).sab,
      maxSteps,
      kthreadCpus: [...spec.kthreadCpus],
      cores: coresShare,
    };
  }

  /** The log, big enough for runs of `maxSteps` decisions (allocated once: 16 MB at the default). */
  private decisionLog(maxSteps: number): DecisionLog {
    if (!this.log || this.log.capacity < DecisionLog.capacityFor(maxSteps))
      this.log = DecisionLog.create(maxSteps);
    return this.log;
  }

  private startCpus(
    pool: Tinypool,
    spec: CampaignSpec,
    deciding: CpuTask['decide'] | null,
  ): Promise<CpuTaskResult>[] {
    const startGen = Atomics.load(this.arena.i32, ctl() + C.RUN_GEN);
    const tasks: Promise<CpuTaskResult>[] = [];
    for (let cpu = 0; cpu < spec.ncpus; cpu++) {
      const t: CpuTask = {
        sab: this.arena.sab,
        regions: [...this.regions],
        cpu,
        entry: spec.entry,
        entryArgs: spec.entryArgs,
        seed: spec.seed,
        jitter: spec.jitter,
        startGen,
        mode: spec.mode ?? 'free',
        ...(spec.points ? { points: spec.points } : {}),
        ...(deciding ? { decide: deciding } : {}),
      };
      tasks.push(pool.run(t));
    }
    return tasks;
  }

  /** Worker start-up (a V8 isolate each, once per pool) is not part of any run. */
  private async waitReady(ncpus: number, watch: CrashWatch): Promise<void> {
    const i32 = this.arena.i32;
    const b = ctl();
    const readyBy = performance.now() + 60_000;
    for (let ready = 0; (ready = Atomics.load(i32, b + C.READY)) < ncpus && !watch.crashed; ) {
      if (Atomics.load(i32, b + C.STOP) !== 0 || performance.now() > readyBy) break;
      await Atomics.waitAsync(i32, b + C.READY, ready, 50).value;
    }
  }

  private async runAll(
    spec: CampaignSpec,
    hooks: CampaignHooks,
    watch: CrashWatch,
    tickMs: number,
    cpusDecide: boolean,
  ): Promise<{ runs: number; timedOut?: RunOutcome }> {
    const i32 = this.arena.i32;
    const b = ctl();
    const kset = new Set(spec.kthreadCpus);
    let runs = 0;
    let run = 0;
    const decider = spec.mode === 'controlled' ? this.decider(spec, hooks, () => run, cpusDecide) : null;
    for (; run < spec.runs; run++) {
      if (Atomics.load(i32, b + C.STOP) !== 0 || watch.crashed) break;
      this.attach();
      hooks.setup(run);
      for (let cpu = 0; cpu < spec.ncpus; cpu++) Atomics.store(i32, percpu(cpu, PC.STATE), CpuState.Idle);
      Atomics.store(i32, b + C.DONE, 0);
      Atomics.store(i32, b + C.ABORT, AbortReason.None);
      Atomics.store(i32, b + C.RUN_STOP, 0);
      resetWarp(spec.ncpus);
      Atomics.store(i32, b + C.RUN_INDEX, run);
      const r0 = performance.now();
      const o = decider
        ? await this.controlledRun(spec, decider, run, r0)
        : await this.freeRun(spec, hooks, run, kset, r0, tickMs, watch);
      if (watch.crashed) {
        await watch.settle(CRASH_REPORT_WAIT_MS);
        break;
      }
      if (o.abort === AbortReason.Timeout) return { runs, timedOut: o };
      runs++;
      this.attach();
      if (!hooks.finish(o)) break;
    }
    return { runs };
  }

  /** Every CPU leaves its run loop at its next look at the control block. */
  private stopCpus(): void {
    const i32 = this.arena.i32;
    Atomics.store(i32, ctl() + C.STOP, 1);
    Atomics.notify(i32, ctl() + C.RUN_GEN);
    wakeAllCpus(Atomics.load(i32, ctl() + C.NCPUS));
  }

  /**
   * STOP the CPUs and wait for their tasks. After a crash or a hang the threads are dropped: a dead
   * worker must not be reused, a crashed program may have left work behind (the rest of an async
   * program), and a stuck CPU cannot be stopped from outside.
   */
  private async endCampaign(
    tasks: Promise<CpuTaskResult>[],
    watch: CrashWatch,
    hung: boolean,
  ): Promise<void> {
    this.stopCpus();
    if (!hung && !watch.crashed) {
      let timer: NodeJS.Timeout | undefined;
      const slow = new Promise((r) => {
        timer = setTimeout(r, 5000, 'slow');
      });
      const settled = await Promise.race([Promise.all(tasks), slow]);
      clearTimeout(timer);
      // A CPU that did not stop within 5 s is stuck: drop the threads rather than hang here.
      if (settled === 'slow') hung = true;
    }
    if (watch.crashed && !watch.crash) await watch.settle(CRASH_REPORT_WAIT_MS);
    watch.disarm(); // tearing the threads down rejects their tasks: that is no crash
    if (hung || watch.crash) await this.destroy();
  }

  /** One free run: every CPU at once; the main thread watches the clock, the ticks and crashes. */
  private async freeRun(
    spec: CampaignSpec,
    hooks: CampaignHooks,
    run: number,
    kset: ReadonlySet<number>,
    r0: number,
    tickMs: number,
    watch: CrashWatch,
  ): Promise<RunOutcome> {
    const i32 = this.arena.i32;
    const b = ctl();
    Atomics.add(i32, b + C.RUN_GEN, 1);
    Atomics.notify(i32, b + C.RUN_GEN);
    let kthreadsStopped = kset.size === 0;
    const tick = hooks.tick;
    let ticking = tick !== undefined;
    let nextTick = r0 + tickMs;
    for (;;) {
      const done = Atomics.load(i32, b + C.DONE);
      if (done >= spec.ncpus) break;
      // A worker that died (process.exit(), out of memory) never counts in DONE nor sets ABORT.
      if (watch.crashed) break;
      if (!kthreadsStopped && this.usersDone(spec.ncpus, kset)) {
        kthreadsStopped = true;
        hooks.stopKthreads(run);
        continue;
      }
      if (performance.now() - r0 > spec.runTimeoutMs) return this.abortHung(spec.ncpus, run, r0);
      if (tick && ticking && performance.now() >= nextTick) {
        nextTick = Math.max(nextTick + tickMs, performance.now() + 1);
        this.attach();
        if (tick.call(hooks, run, performance.now() - r0)) {
          ticking = false;
          Atomics.store(i32, b + C.RUN_STOP, 1);
        }
        continue;
      }
      const waitMs = ticking ? Math.max(1, Math.min(50, nextTick - performance.now())) : 50;
      const w = Atomics.waitAsync(i32, b + C.DONE, done, waitMs);
      if (w.async) await w.value;
    }
    await Promise.resolve();
    return this.outcome(run, spec.ncpus, performance.now() - r0);
  }

  private usersDone(ncpus: number, kset: ReadonlySet<number>): boolean {
    const i32 = this.arena.i32;
    for (let cpu = 0; cpu < ncpus; cpu++) {
      if (!kset.has(cpu) && Atomics.load(i32, percpu(cpu, PC.STATE)) <= CpuState.Running) return false;
    }
    return true;
  }

  /** The run timeout passed: ask the CPUs to abort, give them 2 s, and report what they were doing. */
  private async abortHung(ncpus: number, run: number, r0: number): Promise<RunOutcome> {
    const i32 = this.arena.i32;
    const b = ctl();
    Atomics.store(i32, b + C.ABORT, AbortReason.Timeout);
    const deadline = performance.now() + 2000;
    while (Atomics.load(i32, b + C.DONE) < ncpus && performance.now() < deadline) {
      await Atomics.waitAsync(i32, b + C.DONE, Atomics.load(i32, b + C.DONE), 50).value;
    }
    const o = this.outcome(run, ncpus, performance.now() - r0);
    o.abort = AbortReason.Timeout;
    return o;
  }

  private decider(spec: CampaignSpec, hooks: CampaignHooks, run: () => number, cpusDecide: boolean): Decider {
    return new Decider({
      ncpus: spec.ncpus,
      strategy: spec.strategy!,
      log: this.decisionLog(maxStepsOf(spec)),
      cpusDecide,
      firstSpins: coresShare >= 2,
      maxSteps: maxStepsOf(spec),
      runTimeoutMs: spec.runTimeoutMs,
      kthreadCpus: spec.kthreadCpus,
      ...(spec.describeDeadlock ? { describeDeadlock: spec.describeDeadlock } : {}),
      stopKthreads: () => {
        this.attach();
        hooks.stopKthreads(run());
      },
    });
  }

  /** One controlled run: the main thread's part is the decider's (decider.ts). */
  private async controlledRun(
    spec: CampaignSpec,
    decider: Decider,
    run: number,
    r0: number,
  ): Promise<RunOutcome> {
    const i32 = this.arena.i32;
    const b = ctl();
    const seed = (spec.seed + run) >>> 0;
    spec.strategy!.beginRun(seed, spec.ncpus);
    decider.prepare(seed);
    // More CPUs than cores: no wake here. The first decision's hand-off wakes its CPU, and each
    // other CPU starts when the token (or the run's halt) first reaches it (controlled.ts
    // awaitControlledRun). When they fit the cores, all start now and spin on the token.
    Atomics.add(i32, b + C.RUN_GEN, 1);
    if (spec.ncpus <= coresShare) wakeAllCpus(spec.ncpus);
    const r = await decider.decide();
    // Every CPU now exits (or throws CpuStop at its next token wait): wait for them to report,
    // blocking at first (µs away), then letting the event loop see a worker that died.
    const deadline = performance.now() + 2000;
    for (let slice = 0; Atomics.load(i32, b + C.DONE) < spec.ncpus && performance.now() < deadline; slice++) {
      if (Atomics.load(i32, b + C.ABORT) === AbortReason.Crash) break;
      const done = Atomics.load(i32, b + C.DONE);
      if (slice === 0) Atomics.wait(i32, b + C.DONE, done, 20);
      else await Atomics.waitAsync(i32, b + C.DONE, done, 50).value;
    }
    const o = this.outcome(run, spec.ncpus, performance.now() - r0);
    // A crashed CPU never counts in DONE (its thread may be gone): that is a crash, not a hang.
    const more = { picks: r.picks, report: r.report, mainDecisions: r.mainDecisions };
    if (o.abort === AbortReason.Crash) return { ...o, ...more };
    if (r.abort === AbortReason.Timeout || Atomics.load(i32, b + C.DONE) < spec.ncpus) {
      Atomics.store(i32, b + C.ABORT, AbortReason.Timeout);
      o.abort = AbortReason.Timeout;
    }
    return { ...o, ...more };
  }

  private outcome(run: number, ncpus: number, wallMs: number): RunOutcome {
    const i32 = this.arena.i32;
    const b = ctl();
    const cpus: CpuOutcome[] = [];
    for (let cpu = 0; cpu < ncpus; cpu++) {
      cpus.push({
        state: Atomics.load(i32, percpu(cpu, PC.STATE)),
        points: Atomics.load(i32, percpu(cpu, PC.POINTS)),
        jitterEvents: Atomics.load(i32, percpu(cpu, PC.JITTER_EVENTS)),
        jitterDigest: Atomics.load(i32, percpu(cpu, PC.JITTER_DIGEST)) >>> 0,
      });
    }
    return {
      run,
      abort: Atomics.load(i32, b + C.ABORT),
      abortCpu: Atomics.load(i32, b + C.ABORT_CPU),
      cpus,
      wallMs,
    };
  }

  /** Stop every worker thread. Safe to call twice. */
  async destroy(): Promise<void> {
    this.watch?.disarm();
    const p = this.pool;
    this.pool = null;
    this.poolThreads = 0;
    // Tinypool's destroy() waits for an 'exit' event from every worker, which one that already
    // ended (process.exit(), out of memory) never sends again: wait for the threads instead.
    if (p) await Promise.race([p.destroy(), this.poolExited]);
  }

  get threads(): number {
    return this.pool ? this.pool.threads.length : 0;
  }
}
