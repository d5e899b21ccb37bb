// Worker side of a scenario campaign: load the scenario module, apply the variant's era, and
// return the per-run program of one CPU.
import { cpuCtx } from '../cpu/context.js';
import type { CpuProgram } from '../cpu/cpu_loop.js';
import { applyEra, eraByName } from '../eras/index.js';
import { TASK } from '../kernel/task_struct.js';
import { mem } from '../shm/arena.js';
import { readGlobals } from './kernel_image.js';
import type { Scenario } from './scenario.js';

export interface ScenarioEntryArgs {
  scenarioUrl: string;
  era: string;
}

export async function loadScenario(url: string): Promise<Scenario> {
  const mod = (await import(url)) as { scenario?: Scenario; default?: Scenario };
  const s = mod.scenario ?? mod.default;
  if (!s || typeof s !== 'object' || !Array.isArray(s.cpus))
    throw new Error(`${url} does not export a scenario`);
  return s;
}

export async function prepareCpu(args: unknown, cpu: number): Promise<CpuProgram> {
  const { scenarioUrl, era } = args as ScenarioEntryArgs;
  const s = await loadScenario(scenarioUrl);
  const profile = eraByName(era);
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
      me.run(g);
    } finally {
      if (cpuCtx.current) Atomics.store(mem.i32, cpuCtx.current + TASK.on_cpu, 0);
    }
  };
}
