// The main-thread side of a machine: the arena, the tinypool whose threads are the CPUs (started
// once, reused by every campaign), and the run protocol through the control block.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Tinypool from 'tinypool';
import { Arena, type RegionSpec, useArena } from '../shm/arena.js';
import { wallNow } from './clock.js';
import { cpuCtx } from './context.js';
import { AbortReason, C, CpuState, ctl, MAX_CPUS, PC, percpu, setBootEpoch } from './control.js';
import { Decider, type StalledCpu } from './controlled.js';
import type { CpuCrash, CpuTask, CpuTaskResult } from './cpu_loop.js';
import { BootRunner } from './free.js';
import type { JitterConfig } from './jitter.js';
import type { Strategy } from './strategy.js';

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
  /**
   * Controlled mode: picks the CPU at every decision (on the main thread). The machine calls its
   * beginRun(seed + run, ncpus) before each run; endRun is the hooks' business (they know whether
   * the run failed). `hooks.tick` is not called in controlled mode.
   */
  strategy?: Strategy;
  /** Controlled mode: a run that takes more decisions than this is stopped (default 2 000 000). */
  maxSteps?: number;
  /** Controlled mode: the deadlock report (default: the waited-on words only). */
  describeDeadlock?(cpus: StalledCpu[], headline: string): string[];
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

function workerFile(): string {
  // From dist/ the worker sits beside us; from the TypeScript sources (tests) use the built copy.
  const here = fileURLToPath(import.meta.url);
  const distRoot = here.includes('/dist/') ? here.slice(0, here.lastIndexOf('/dist/') + 6) : null;
  const root = distRoot ?? `${here.slice(0, here.lastIndexOf('/src/'))}/dist/`;
  const f = `${root}workers/cpu.js`;
  if (!existsSync(f)) throw new MachineError(`worker entry ${f} is missing: run 'npm run build' first`);
  return f;
}

export class Machine {
  readonly arena: Arena;
  private pool: Tinypool | null = null;
  private poolThreads = 0;

  constructor(readonly regions: readonly RegionSpec[]) {
    this.arena = Arena.create(regions);
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
    this.pool = new Tinypool({
      filename: workerFile(),
      minThreads: n,
      maxThreads: n,
      isolateWorkers: false,
      idleTimeout: 0,
    });
    this.poolThreads = n;
    return this.pool;
  }

  async campaign(spec: CampaignSpec, hooks: CampaignHooks): Promise<CampaignResult> {
    if (!Number.isInteger(spec.ncpus) || spec.ncpus < 1 || spec.ncpus > MAX_CPUS) {
      throw new MachineError(`ncpus must be 1..${MAX_CPUS}, got ${spec.ncpus}`);
    }
    this.attach();
    const i32 = this.arena.i32;
    const b = ctl();
    Atomics.store(i32, b + C.STOP, 0);
    Atomics.store(i32, b + C.ABORT, AbortReason.None);
    Atomics.store(i32, b + C.NCPUS, spec.ncpus);
    Atomics.store(i32, b + C.TIME_SCALE_X1000, Math.round(spec.timeScale * 1000));
    Atomics.store(i32, b + C.READY, 0);
    const pool = this.ensurePool(spec.ncpus);
    const startGen = Atomics.load(i32, b + C.RUN_GEN);
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
      };
      tasks.push(pool.run(t));
    }
    let crash: CpuCrash | undefined;
    const crashed = Promise.all(tasks).then(
      (rs) => rs.find((r) => r.crash)?.crash,
      (e: unknown) => ({
        cpu: -1,
        name: 'Error',
        message: String(e),
        stack: String((e as Error)?.stack ?? e),
      }),
    );
    let noteCrash = (c: CpuCrash | undefined) => {
      crash ??= c;
    };
    void crashed.then((c) => noteCrash(c));

    // Worker start-up (a V8 isolate each, once per pool) is not part of any run.
    const readyBy = performance.now() + 60_000;
    for (let ready = 0; (ready = Atomics.load(i32, b + C.READY)) < spec.ncpus && !crash; ) {
      if (Atomics.load(i32, b + C.STOP) !== 0 || performance.now() > readyBy) break;
      await Atomics.waitAsync(i32, b + C.READY, ready, 50).value;
    }
    const t0 = performance.now();
    let runs = 0;
    let timedOut: RunOutcome | undefined;
    const kset = new Set(spec.kthreadCpus);
    const tickMs = spec.tickMs ?? 50;
    if (!(tickMs > 0)) throw new MachineError(`tickMs must be positive, got ${spec.tickMs}`);
    const controlled = spec.mode === 'controlled';
    const strategy = spec.strategy;
    if (controlled && !strategy) throw new MachineError('controlled mode needs a strategy');
    for (let run = 0; run < spec.runs; run++) {
      if (Atomics.load(i32, b + C.STOP) !== 0 || crash) break;
      this.attach();
      hooks.setup(run);
      for (let cpu = 0; cpu < spec.ncpus; cpu++) Atomics.store(i32, percpu(cpu, PC.STATE), CpuState.Idle);
      Atomics.store(i32, b + C.DONE, 0);
      Atomics.store(i32, b + C.ABORT, AbortReason.None);
      Atomics.store(i32, b + C.RUN_STOP, 0);
      Atomics.store(i32, b + C.RUN_INDEX, run);
      const r0 = performance.now();
      if (controlled && strategy) {
        const o = await this.controlledRun(spec, strategy, hooks, run, kset, r0);
        if (Atomics.load(i32, b + C.ABORT) === AbortReason.Crash) {
          await crashed.then((c) => noteCrash(c));
          break;
        }
        if (o.abort === AbortReason.Timeout) {
          timedOut = o;
          break;
        }
        runs++;
        this.attach();
        if (!hooks.finish(o)) break;
        continue;
      }
      Atomics.add(i32, b + C.RUN_GEN, 1);
      Atomics.notify(i32, b + C.RUN_GEN);
      let kthreadsStopped = kset.size === 0;
      const tick = hooks.tick;
      let ticking = tick !== undefined;
      let nextTick = r0 + tickMs;
      for (;;) {
        const done = Atomics.load(i32, b + C.DONE);
        if (done >= spec.ncpus) break;
        if (Atomics.load(i32, b + C.ABORT) === AbortReason.Crash) break;
        if (!kthreadsStopped) {
          let userDone = true;
          for (let cpu = 0; cpu < spec.ncpus && userDone; cpu++) {
            if (!kset.has(cpu) && Atomics.load(i32, percpu(cpu, PC.STATE)) <= CpuState.Running)
              userDone = false;
          }
          if (userDone) {
            kthreadsStopped = true;
            hooks.stopKthreads(run);
            continue;
          }
        }
        if (performance.now() - r0 > spec.runTimeoutMs) {
          Atomics.store(i32, b + C.ABORT, AbortReason.Timeout);
          const deadline = performance.now() + 2000;
          while (Atomics.load(i32, b + C.DONE) < spec.ncpus && performance.now() < deadline) {
            await Atomics.waitAsync(i32, b + C.DONE, Atomics.load(i32, b + C.DONE), 50).value;
          }
          timedOut = this.outcome(run, spec.ncpus, performance.now() - r0);
          break;
        }
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
      if (timedOut) break;
      await Promise.resolve();
      if (Atomics.load(i32, b + C.ABORT) === AbortReason.Crash) {
        await crashed.then((c) => noteCrash(c));
        break;
      }
      runs++;
      this.attach();
      if (!hooks.finish(this.outcome(run, spec.ncpus, performance.now() - r0))) break;
    }
    const wallMs = performance.now() - t0;
    Atomics.store(i32, b + C.STOP, 1);
    Atomics.notify(i32, b + C.RUN_GEN);
    if (timedOut) {
      // A CPU stuck without reaching a point cannot be stopped from outside: drop the threads
      // (their tasks then reject: that is the hang being cleaned up, not a crash).
      noteCrash = () => {};
      await this.destroy();
    } else {
      let timer: NodeJS.Timeout | undefined;
      const slow = new Promise((r) => {
        timer = setTimeout(r, 5000, 'slow');
      });
      const settled = await Promise.race([crashed, slow]);
      clearTimeout(timer);
      if (settled === 'slow') await this.destroy();
      else noteCrash(settled as CpuCrash | undefined);
    }
    noteCrash = () => {};
    return { runs, wallMs, ...(crash ? { crash } : {}), ...(timedOut ? { timedOut } : {}) };
  }

  /** One controlled run: the main thread makes every decision, blocking while a CPU runs. */
  private async controlledRun(
    spec: CampaignSpec,
    strategy: Strategy,
    hooks: CampaignHooks,
    run: number,
    kset: ReadonlySet<number>,
    r0: number,
  ): Promise<RunOutcome> {
    const i32 = this.arena.i32;
    const b = ctl();
    strategy.beginRun((spec.seed + run) >>> 0, spec.ncpus);
    const decider = new Decider({
      ncpus: spec.ncpus,
      strategy,
      maxSteps: spec.maxSteps ?? 2_000_000,
      runTimeoutMs: spec.runTimeoutMs,
      kthreadCpus: kset,
      ...(spec.describeDeadlock ? { describeDeadlock: spec.describeDeadlock } : {}),
      stopKthreads: () => {
        this.attach();
        hooks.stopKthreads(run);
      },
    });
    decider.prepare();
    Atomics.add(i32, b + C.RUN_GEN, 1);
    Atomics.notify(i32, b + C.RUN_GEN);
    const r = decider.decide();
    // Every CPU now exits (or throws CpuStop at its next token wait): wait for them to report.
    const deadline = performance.now() + 2000;
    while (Atomics.load(i32, b + C.DONE) < spec.ncpus && performance.now() < deadline) {
      if (Atomics.load(i32, b + C.ABORT) === AbortReason.Crash) break;
      await Atomics.waitAsync(i32, b + C.DONE, Atomics.load(i32, b + C.DONE), 50).value;
    }
    const o = this.outcome(run, spec.ncpus, performance.now() - r0);
    if (r.abort === AbortReason.Timeout || Atomics.load(i32, b + C.DONE) < spec.ncpus) {
      Atomics.store(i32, b + C.ABORT, AbortReason.Timeout);
      o.abort = AbortReason.Timeout;
    }
    return { ...o, picks: r.picks, report: r.report };
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
    const p = this.pool;
    this.pool = null;
    this.poolThreads = 0;
    if (p) await p.destroy();
  }

  get threads(): number {
    return this.pool ? this.pool.threads.length : 0;
  }
}
