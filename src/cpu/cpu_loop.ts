// The body of a CPU worker: attach to the arena, then run one program per run until the
// campaign stops. Results travel through the control block; only a crash travels by message.
import { Arena, type RegionSpec, useArena } from '../shm/arena.js';
import { cpuCtx } from './context.js';
import { AbortReason, C, CpuState, ctl, PC, percpu } from './control.js';
import { ControlledRunner } from './controlled.js';
import { CpuStop, KernelOops } from './errors.js';
import { FreeRunner } from './free.js';
import type { JitterConfig } from './jitter.js';
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
}

export interface CpuCrash {
  cpu: number;
  name: string;
  message: string;
  stack: string;
}

export interface CpuTaskResult {
  cpu: number;
  runs: number;
  crash?: CpuCrash;
}

export type CpuProgram = (run: number) => void;

export interface CpuEntryModule {
  prepareCpu(args: unknown, cpu: number): CpuProgram | Promise<CpuProgram>;
}

/** Stops every CPU of the campaign; used when one CPU's program throws. */
function crashCampaign(i32: Int32Array, cpu: number): void {
  const b = ctl();
  Atomics.compareExchange(i32, b + C.ABORT, AbortReason.None, AbortReason.Crash);
  Atomics.store(i32, b + C.ABORT_CPU, cpu);
  Atomics.store(i32, b + C.STOP, 1);
  Atomics.notify(i32, b + C.RUN_GEN);
  Atomics.notify(i32, b + C.DONE);
}

export async function runCpu(t: CpuTask): Promise<CpuTaskResult> {
  const arena = Arena.attach(t.sab, t.regions);
  useArena(arena);
  const i32 = arena.i32;
  const b = ctl();
  const runner = t.mode === 'controlled' ? new ControlledRunner(t.cpu) : new FreeRunner(t.jitter, t.cpu);
  if (runner instanceof FreeRunner) runner.currentTask = () => cpuCtx.current;
  cpuCtx.cpu = t.cpu;
  cpuCtx.runner = runner;
  cpuCtx.current = 0;
  cpuCtx.preemptCount = 0;
  // --trace: the kernel's waits and wakes go through this wrapper in the runs being recorded.
  const tracer = new TracingRunner(runner, t.cpu);
  let runs = 0;
  let program: CpuProgram;
  try {
    const mod = (await import(t.entry)) as CpuEntryModule;
    program = await mod.prepareCpu(t.entryArgs, t.cpu);
  } catch (e) {
    crashCampaign(i32, t.cpu);
    return { cpu: t.cpu, runs, crash: describe(t.cpu, e) };
  }
  Atomics.add(i32, b + C.READY, 1);
  Atomics.notify(i32, b + C.READY);
  let gen = t.startGen;
  for (;;) {
    for (;;) {
      if (Atomics.load(i32, b + C.STOP) !== 0) return { cpu: t.cpu, runs };
      const g = Atomics.load(i32, b + C.RUN_GEN);
      if (g !== gen) {
        gen = g;
        break;
      }
      Atomics.wait(i32, b + C.RUN_GEN, gen, 100);
    }
    const run = Atomics.load(i32, b + C.RUN_INDEX);
    cpuCtx.preemptCount = 0;
    Atomics.store(i32, percpu(t.cpu, PC.STATE), CpuState.Running);
    let state: CpuState = CpuState.Done;
    let crash: CpuCrash | undefined;
    try {
      cpuCtx.runner = traceCpuBegin(t.cpu, t.mode) ? tracer : runner;
      // Controlled mode: this waits for the token, and may be told the run is over (CpuStop).
      runner.beginRun((t.seed + run) >>> 0);
      program(run);
    } catch (e) {
      if (e instanceof CpuStop) state = CpuState.Stopped;
      else if (e instanceof KernelOops) {
        state = CpuState.Oops;
        if (Atomics.compareExchange(i32, b + C.ABORT, AbortReason.None, AbortReason.Oops) === 0) {
          Atomics.store(i32, b + C.ABORT_CPU, t.cpu);
        }
      } else {
        state = CpuState.Crashed;
        crash = describe(t.cpu, e);
      }
    }
    traceCpuEnd(state);
    cpuCtx.runner = runner;
    runs++;
    if (runner instanceof FreeRunner) runner.endRun();
    Atomics.store(i32, percpu(t.cpu, PC.POINTS), runner.points);
    Atomics.store(i32, percpu(t.cpu, PC.JITTER_EVENTS), runner.jitterEvents);
    Atomics.store(i32, percpu(t.cpu, PC.JITTER_DIGEST), runner.jitterDigest | 0);
    Atomics.store(i32, percpu(t.cpu, PC.CURRENT), cpuCtx.current);
    Atomics.store(i32, percpu(t.cpu, PC.STATE), state);
    if (crash) crashCampaign(i32, t.cpu);
    if (runner instanceof ControlledRunner) runner.exit();
    Atomics.add(i32, b + C.DONE, 1);
    Atomics.notify(i32, b + C.DONE);
    if (crash) return { cpu: t.cpu, runs, crash };
  }
}

function describe(cpu: number, e: unknown): CpuCrash {
  if (e instanceof Error) return { cpu, name: e.name, message: e.message, stack: e.stack ?? String(e) };
  return { cpu, name: 'Error', message: String(e), stack: String(e) };
}
