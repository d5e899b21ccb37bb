// Worker side of a scenario campaign: load the scenario module, apply the variant's era, and
// return the per-run program of one CPU.
import { cpuCtx } from '../cpu/context.js';
import type { CpuProgram } from '../cpu/cpu_loop.js';
import { importModule } from '../cpu/own_modules.js';
import { applyEra } from '../eras/index.js';
import { rcu_barrier, rcuCallbacksPending } from '../kernel/rcu/callbacks.js';
import { TASK } from '../kernel/task_struct.js';
import { switchToIdle } from '../kernel/task_switch.js';
import { mem } from '../shm/arena.js';
import { scenarioEra } from './era_matrix.js';
import { readGlobals, stopScenarioKthreads } from './kernel_image.js';
import type { Scenario } from './scenario.js';
import { validateScenario } from './scenario_schema.js';

export interface ScenarioEntryArgs {
  scenarioUrl: string;
  era: string;
}

/** A module that exports no scenario; the message says what it does export. */
export class NoScenarioExportError extends Error {
  constructor(exportNames: readonly string[]) {
    super(
      "does not export a scenario (expected 'export const scenario = defineScenario({...})'; " +
        `${exportNames.length > 0 ? `it exports ${exportNames.map((n) => `'${n}'`).join(', ')}` : 'it exports nothing'})`,
    );
    this.name = 'NoScenarioExportError';
  }
}

/**
 * The scenario a module exports, checked and with its defaults filled in. Both the main thread
 * and every CPU worker load it this way, so they see the same scenario.
 */
export async function loadScenario(url: string): Promise<Scenario> {
  return validateScenario(scenarioExport((await importModule(url)) as Record<string, unknown>));
}

// `export const scenario`, `export default`, or a CommonJS `module.exports = ...` /
// `exports.scenario = ...` (import() shows module.exports as the default export).
function scenarioExport(mod: Record<string, unknown>): unknown {
  if (mod.scenario !== undefined) return mod.scenario;
  const d = mod.default as Record<string, unknown> | undefined;
  if (d !== null && typeof d === 'object') {
    if (d.scenario !== undefined) return d.scenario;
    // A default export that looks like a scenario is held to the schema; anything else is not one.
    if ('id' in d || 'cpus' in d) return d;
  }
  throw new NoScenarioExportError(Object.keys(mod).filter((k) => k !== 'module.exports'));
}

/** The scenario each entry function of this worker loaded (prepareCpu runs first). */
let loaded: Scenario | null = null;

/**
 * Controlled mode: the CPU that finds only kthread CPUs left stops them itself, as the main
 * thread's hook does (variant_hooks.ts): kthread_stop() on each kthread CPU's task.
 */
export function kthreadStopper(_args: unknown): () => void {
  const s = loaded!;
  return () => stopScenarioKthreads(s, readGlobals(s.globals));
}

export async function prepareCpu(args: unknown, cpu: number): Promise<CpuProgram> {
  const { scenarioUrl, era } = args as ScenarioEntryArgs;
  const s = await loadScenario(scenarioUrl);
  loaded = s;
  const profile = scenarioEra(s, era);
  if (!profile) throw new Error(`unknown era '${era}'`);
  applyEra(profile);
  const me = s.cpus[cpu];
  if (!me) throw new Error(`scenario ${s.id} has no CPU${cpu}`);
  return () => {
    const g = readGlobals(s.globals);
    const task = g[me.task]!;
    cpuCtx.current = task;
    Atomics.store(mem.i32, task + TASK.cpu, cpu);
    Atomics.store(mem.i32, task + TASK.on_cpu, 1);
    try {
      // Returned, so the CPU loop sees a Promise (an async program) and reports it as a crash.
      const r = me.run(g);
      // The program's end is the CPU's switch away from its task: a task that ran do_exit() loses
      // its last "current" reference here, as in the kernel's finish_task_switch().
      switchToIdle();
      // The idle CPU runs out its RCU work (RCU_SOFTIRQ, the GP kthread's grace periods) before the
      // run ends: release_task()'s delayed put, kfree_rcu()... Nothing to do when none is pending.
      if (rcuCallbacksPending() > 0) rcu_barrier();
      return r;
    } finally {
      if (cpuCtx.current) Atomics.store(mem.i32, cpuCtx.current + TASK.on_cpu, 0);
    }
  };
}
