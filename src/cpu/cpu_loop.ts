// The body of a CPU worker: attach to the arena, then run one program per run until the
// campaign stops. Results travel through the control block; only a crash travels by message.
import { threadId } from 'node:worker_threads';
import { Arena, mem, type RegionSpec, useArena } from '../shm/arena.js';
import { refreshThreadConfig } from '../shm/thread_config.js';
import { emulatedNow } from './clock.js';
import { cpuCtx } from './context.js';
import { AbortReason, C, CpuState, ctl, PC, percpu } from './control.js';
import { awaitControlledRun, ControlledRunner, wakeMain } from './controlled.js';
import {
  type CpuCrash,
  describeThrown,
  exitCrash,
  promiseCrash,
  publishCrash,
  stopCampaign,
} from './crash.js';
import { Scheduler } from './decide.js';
import { DecisionLog } from './decision_log.js';
import { CpuStop, KernelOops } from './errors.js';
import { FreeRunner } from './free.js';
import { type PointGranularity, setPointGranularity } from './granularity.js';
import { warpIfIdle } from './idle_warp.js';
import type { JitterConfig } from './jitter.js';
import { importModule } from './own_modules.js';
import { makeStrategy, type StrategyConfig } from './strategies/index.js';
import { traceCpuBegin, traceCpuEnd } from './trace_buffer.js';
import { TracingRunner } from './tracing_runner.js';

export interface CpuTask {
  sab: SharedArrayBuffer;
  regions: RegionSpec[];
  cpu: number;
  /** URL of a module exporting `prepareCpu(args, cpu)`, which returns the per-run program. */
  entry: string;
  entryArgs: unknown;
  seed: number;
  jitter: JitterConfig;
  startGen: number;
  /** free: every CPU at once, with jitter; controlled: one at a time, picked by the main thread. */
  mode: 'free' | 'controlled';
  /** Where CPUs may switch (default coarse; atomic adds every shared access in the primitives). */
  points?: PointGranularity;
  /** Controlled mode: this CPU decides, with its own copy of the strategy (controlled.ts). */
  decide?: CpuDecide;
}

export interface CpuDecide {
  strategy: StrategyConfig;
  /** The strategy's state when the campaign began (strategyState()). */
  state: Record<string, unknown>;
  log: SharedArrayBuffer;
  maxSteps: number;
  kthreadCpus: number[];
  /** The host's cores: how long a CPU waiting for the token spins (controlled.ts). */
  cores: number;
}

export type { CpuCrash } from './crash.js';

export interface CpuTaskResult {
  cpu: number;
  runs: number;
  crash?: CpuCrash;
}

/** A CPU's per-run program. It must be synchronous: a returned thenable is reported as a crash. */
export type CpuProgram = (run: number) => unknown;

export interface CpuEntryModule {
  prepareCpu(args: unknown, cpu: number): CpuProgram | Promise<CpuProgram>;
  /**
   * Optional, controlled mode: what tells the run's kthread CPUs to stop once only they are left,
   * as the main thread's hook would (the CPU that finds them alone calls it). Without it that CPU
   * hands the token to the main thread for it.
   */
  kthreadStopper?(args: unknown): () => void;
}

/** The CPU task this worker runs now: the process 'exit' handler reports a process.exit() in it. */
let active: { cpu: number; runner: FreeRunner | ControlledRunner | null } | null = null;
let exitHooked = false;

/**
 * process.exit() in a worker ends the thread: no catch or finally runs, and tinypool never
 * settles the task. Node emits 'exit' on the worker's process inside process.exit(), with the
 * program's frames on the stack: record the crash in the control block, stop the campaign, and
 * hand back the token (controlled mode), before the thread dies.
 */
function hookProcessExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', (code) => {
    const a = active;
    active = null;
    if (!a) return;
    try {
      publishCrash(exitCrash(a.cpu, code, new Error().stack ?? ''));
      Atomics.store(mem.i32, percpu(a.cpu, PC.STATE), CpuState.Crashed);
      stopCampaign(mem.i32, a.cpu);
      if (a.runner instanceof ControlledRunner) a.runner.exit();
    } catch {} // no arena yet: the main thread still sees the thread end and reports it
  });
}

export async function runCpu(t: CpuTask): Promise<CpuTaskResult> {
  active = { cpu: t.cpu, runner: null };
  hookProcessExit();
  try {
    return await cpuMain(t);
  } catch (e) {
    // Anything thrown outside a program (start-up: the entry module, the runner) crashes this CPU.
    const crash = describeThrown(t.cpu, e);
    try {
      publishCrash(crash);
      stopCampaign(mem.i32, t.cpu);
    } catch {} // the arena itself failed to attach: the main thread stops the others
    return { cpu: t.cpu, runs: 0, crash };
  } finally {
    active = null;
  }
}

interface Cpu {
  t: CpuTask;
  runner: FreeRunner | ControlledRunner;
  tracer: TracingRunner;
  program: CpuProgram;
}

async function startCpu(t: CpuTask): Promise<Cpu> {
  useArena(Arena.attach(t.sab, t.regions));
  Atomics.store(mem.i32, percpu(t.cpu, PC.THREAD_ID), threadId);
  const runner = t.mode === 'controlled' ? controlledRunner(t) : new FreeRunner(t.jitter, t.cpu);
  if (runner instanceof FreeRunner) runner.currentTask = () => cpuCtx.current;
  active = { cpu: t.cpu, runner };
  setPointGranularity(t.points ?? 'coarse');
  cpuCtx.cpu = t.cpu;
  cpuCtx.runner = runner;
  cpuCtx.current = 0;
  cpuCtx.preemptCount = 0;
  // --trace: the kernel's waits and wakes go through this wrapper in the runs being recorded.
  const tracer = new TracingRunner(runner, t.cpu);
  const mod = (await importModule(t.entry)) as CpuEntryModule;
  const program = await mod.prepareCpu(t.entryArgs, t.cpu);
  if (typeof program !== 'function')
    throw new TypeError(`prepareCpu returned ${typeof program}, not a function`);
  const scheduler = runner instanceof ControlledRunner ? runner.scheduler : null;
  if (scheduler && t.decide!.kthreadCpus.length > 0 && mod.kthreadStopper)
    scheduler.setKthreadStopper(mod.kthreadStopper(t.entryArgs));
  return { t, runner, tracer, program };
}

function controlledRunner(t: CpuTask): ControlledRunner {
  const d = t.decide;
  if (!d) return new ControlledRunner(t.cpu);
  const strategy = Object.assign(makeStrategy(d.strategy), d.state);
  const ncpus = Atomics.load(mem.i32, ctl() + C.NCPUS);
  const opts = { ncpus, maxSteps: d.maxSteps, kthreadCpus: d.kthreadCpus };
  const scheduler = new Scheduler(strategy, new DecisionLog(d.log), opts, true);
  return new ControlledRunner(t.cpu, { scheduler, cores: d.cores });
}

async function cpuMain(t: CpuTask): Promise<CpuTaskResult> {
  const cpu = await startCpu(t);
  const i32 = mem.i32;
  const b = ctl();
  Atomics.add(i32, b + C.READY, 1);
  Atomics.notify(i32, b + C.READY);
  let gen = t.startGen;
  for (let runs = 0; ; runs++) {
    const next = t.mode === 'controlled' ? awaitControlledRun(t.cpu, gen) : awaitFreeRun(gen);
    if (next === null) return { cpu: t.cpu, runs };
    gen = next;
    const r = runOnce(cpu, Atomics.load(i32, b + C.RUN_INDEX));
    publishRun(cpu, r);
    if (r.crash) {
      const crash = r.promise ? await promiseFate(t.cpu, r.promise) : r.crash;
      return { cpu: t.cpu, runs: runs + 1, crash };
    }
  }
}

/** Free mode: every CPU wakes when the main thread bumps RUN_GEN. The new one, or null at STOP. */
function awaitFreeRun(gen: number): number | null {
  const i32 = mem.i32;
  const b = ctl();
  for (;;) {
    if (Atomics.load(i32, b + C.STOP) !== 0) return null;
    const g = Atomics.load(i32, b + C.RUN_GEN);
    if (g !== gen) return g;
    Atomics.wait(i32, b + C.RUN_GEN, gen, 100);
  }
}

interface RunEnd {
  state: CpuState;
  crash?: CpuCrash;
  /** The thenable the program returned. */
  promise?: PromiseLike<unknown>;
}

function runOnce(cpu: Cpu, run: number): RunEnd {
  const { t, runner } = cpu;
  // The machine-wide switches (lockdep, KASAN on lock words) as the main thread left them before
  // it started this run: this CPU's copies are what its lock operations test.
  refreshThreadConfig();
  cpuCtx.preemptCount = 0;
  Atomics.store(mem.i32, percpu(t.cpu, PC.STATE), CpuState.Running);
  let end: RunEnd = { state: CpuState.Done };
  try {
    cpuCtx.runner = traceCpuBegin(t.cpu, t.mode) ? cpu.tracer : runner;
    // Controlled mode: this waits for the token, and may be told the run is over (CpuStop).
    runner.beginRun((t.seed + run) >>> 0);
    const ret = cpu.program(run);
    // Kernel code cannot await: what runs after an await would run outside the run, unscheduled.
    if (isThenable(ret)) end = { state: CpuState.Crashed, crash: promiseCrash(t.cpu), promise: ret };
  } catch (e) {
    end = thrown(t.cpu, e);
  }
  traceCpuEnd(end.state);
  cpuCtx.runner = runner;
  return end;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    (typeof v === 'object' || typeof v === 'function') &&
    v !== null &&
    typeof (v as PromiseLike<unknown>).then === 'function'
  );
}

function thrown(cpu: number, e: unknown): RunEnd {
  if (e instanceof CpuStop) return { state: CpuState.Stopped };
  if (e instanceof KernelOops) {
    const i32 = mem.i32;
    const b = ctl();
    if (Atomics.compareExchange(i32, b + C.ABORT, AbortReason.None, AbortReason.Oops) === AbortReason.None) {
      Atomics.store(i32, b + C.ABORT_CPU, cpu);
    }
    return { state: CpuState.Oops };
  }
  return { state: CpuState.Crashed, crash: describeThrown(cpu, e) };
}

/** The run's results into the control block; a crash stops the campaign before DONE counts it. */
function publishRun({ t, runner }: Cpu, r: RunEnd): void {
  const i32 = mem.i32;
  const b = ctl();
  if (runner instanceof FreeRunner) runner.endRun();
  Atomics.store(i32, percpu(t.cpu, PC.POINTS), runner.points);
  Atomics.store(i32, percpu(t.cpu, PC.JITTER_EVENTS), runner.jitterEvents);
  Atomics.store(i32, percpu(t.cpu, PC.JITTER_DIGEST), runner.jitterDigest | 0);
  Atomics.store(i32, percpu(t.cpu, PC.CURRENT), cpuCtx.current);
  Atomics.store(i32, percpu(t.cpu, PC.STATE), r.state);
  if (r.crash) {
    publishCrash(r.crash);
    stopCampaign(i32, t.cpu);
  }
  if (runner instanceof ControlledRunner) runner.exit();
  const done = Atomics.add(i32, b + C.DONE, 1) + 1;
  Atomics.notify(i32, b + C.DONE);
  // Controlled mode: the main thread sleeps until the run is over, woken once by the last report.
  if (runner instanceof ControlledRunner && done === Atomics.load(i32, b + C.NCPUS)) wakeMain();
  // The others may all be asleep on timers now: nobody else would warp the clock (idle_warp.ts).
  if (runner instanceof FreeRunner) warpIfIdle(emulatedNow());
}

/** How long a returned Promise gets to settle, so that its rejection is part of the report. */
const PROMISE_GRACE_MS = 100;

/**
 * The campaign is already stopped and the crash published; give the Promise a moment to settle
 * (an async program typically throws right after its first await) and say how it ended. A later
 * rejection is still handled, so it cannot kill this worker as an unhandled rejection.
 */
async function promiseFate(cpu: number, p: PromiseLike<unknown>): Promise<CpuCrash> {
  let late = false;
  const fate = Promise.resolve(p).then(
    () => 'the Promise resolved (after the run was over)',
    (e: unknown) => {
      if (e instanceof CpuStop) return 'the Promise rejected: the CPU was stopped';
      const c = describeThrown(cpu, e);
      if (late)
        process.stderr.write(
          `mmrace: CPU${cpu}: the Promise its program returned rejected late: ${c.stack}\n`,
        );
      return `the Promise rejected: ${c.stack}`;
    },
  );
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<undefined>((r) => {
    timer = setTimeout(r, PROMISE_GRACE_MS, undefined);
  });
  const after = await Promise.race([fate, grace]);
  clearTimeout(timer);
  if (after === undefined) late = true;
  return promiseCrash(cpu, after ?? `the Promise had not settled ${PROMISE_GRACE_MS} ms later`);
}
