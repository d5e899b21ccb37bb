// Every experiment of `mmrace bench`: each file of src/experiments/bench/ that exports
// `experiment` (see experiment.ts for how to add one). Loaded once, before the machine lays out its
// arena, so that an experiment's statics regions are part of it.
import { importModule, ownModulesIn } from '../cpu/own_modules.js';
import type { Experiment } from './experiment.js';

let loaded: Experiment[] | null = null;

/** The experiments, sorted by name. */
export async function loadExperiments(): Promise<Experiment[]> {
  if (loaded) return loaded;
  const out: Experiment[] = [];
  for (const spec of ownModulesIn('experiments/bench/')) {
    const mod = (await importModule(spec)) as { experiment?: Experiment };
    if (mod.experiment) out.push(mod.experiment);
  }
  const names = new Set<string>();
  for (const e of out) {
    if (names.has(e.name)) throw new Error(`two experiments are called '${e.name}'`);
    names.add(e.name);
  }
  loaded = out.sort((a, b) => a.name.localeCompare(b.name));
  return loaded;
}
