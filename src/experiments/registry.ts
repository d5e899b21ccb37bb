// Every experiment of `mmrace bench`: each file of src/experiments/bench/ that exports
// `experiment` (see experiment.ts for how to add one). Loaded once, before the machine lays out its
// arena, so that an experiment's statics regions are part of it.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Experiment } from './experiment.js';

const DIR = new URL('./bench/', import.meta.url);

let loaded: Experiment[] | null = null;

/** The experiments, sorted by name. */
export async function loadExperiments(): Promise<Experiment[]> {
  if (loaded) return loaded;
  // From dist/ the files are .js; from the TypeScript sources (vitest) they are .ts.
  const files = readdirSync(fileURLToPath(DIR))
    .filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith('.d.ts'))
    .sort();
  const out: Experiment[] = [];
  for (const f of files) {
    const mod = (await import(new URL(f, DIR).href)) as { experiment?: Experiment };
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
