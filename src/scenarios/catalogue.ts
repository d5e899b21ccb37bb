// The built-in scenarios, and loading a user's scenario file the same way.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { scenarioUrl } from './campaign.js';
import { loadScenario } from './cpu_entry.js';
import { scenario as oomReaper2017 } from './oom-reaper-vs-exit-mmap-2017.js';
import type { Scenario } from './scenario.js';

export interface CatalogueEntry {
  readonly scenario: Scenario;
  /** Module URL the CPU workers import. */
  readonly url: string;
}

export const BUILTIN: readonly CatalogueEntry[] = [oomReaper2017].map((s) => ({
  scenario: s,
  url: scenarioUrl(s),
}));

export function findScenario(id: string): CatalogueEntry | undefined {
  return BUILTIN.find((e) => e.scenario.id === id);
}

export class ScenarioFileError extends Error {}

/** A user's scenario module (compiled JavaScript that exports `scenario`). */
export async function loadScenarioFile(path: string): Promise<CatalogueEntry> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new ScenarioFileError(`no such scenario file: ${path}`);
  if (!/\.(m?js)$/.test(abs))
    throw new ScenarioFileError(
      `${path}: scenario files must be JavaScript modules (.js/.mjs); compile TypeScript first`,
    );
  const url = pathToFileURL(abs).href;
  try {
    return { scenario: await loadScenario(url), url };
  } catch (e) {
    throw new ScenarioFileError(`${path}: ${(e as Error).message.split('\n')[0]}`);
  }
}
