// The built-in scenarios, and loading a user's scenario file the same way.
import { statSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Arena, ArenaLayoutError } from '../shm/arena.js';
import { scenarioUrl } from './campaign.js';
import { loadScenario, NoScenarioExportError } from './cpu_entry.js';
import { scenario as exitMmapReadThenWrite2022 } from './exit-mmap-read-then-write-lock-2022.js';
import { scenario as exitMmapWriteLock2021 } from './exit-mmap-write-lock-2021.js';
import { machineRegions } from './kernel_image.js';
import { describeLoadError, mmraceNotFound } from './load_error.js';
import { compileTs, TsBuildError } from './load_ts.js';
import { scenario as munlockVsReaper2018 } from './munlock-vs-oom-reaper-2018.js';
import { scenario as exitAioLiveness } from './oom-reaper-exit-aio-liveness-2017.js';
import { scenario as doubleEnqueue2019 } from './oom-reaper-list-double-enqueue-2019.js';
import { scenario as populateAfterReap } from './oom-reaper-populate-after-reap-2017.js';
import { scenario as oomReaper2017 } from './oom-reaper-vs-exit-mmap-2017.js';
import { scenario as zapSamePtes } from './oom-reaper-vs-unmap-vmas-same-ptes.js';
import { scenario as mreleaseDanglingMmap } from './process-mrelease-dangling-mmap-2022.js';
import { type Scenario, ScenarioError } from './scenario.js';
import { scenario as teardownSoak } from './teardown-soak.js';
import { scenario as vmaLockExitMmap } from './vma-lock-exit-mmap.js';
import { scenario as vmaLockExitMmapPastMmput } from './vma-lock-exit-mmap-past-mmput.js';
import { scenario as vmaLockFork } from './vma-lock-fork.js';
import { scenario as vmaLockJannUaf } from './vma-lock-jann-uaf.js';
import { scenario as vmaLockNewVma } from './vma-lock-new-vma-visible.js';
import { scenario as vmaLockRefcnt } from './vma-lock-refcnt.js';
import { scenario as vmaLockRfcBounds } from './vma-lock-rfc-bounds.js';
import { scenario as vmaLockRfcSeq } from './vma-lock-rfc-seq.js';
import { scenario as vmaLockSoak } from './vma-lock-soak.js';
import { scenario as vmaLockStackExpand } from './vma-lock-stack-expand.js';
import { scenario as vmaLockUffdOrdering } from './vma-lock-uffd-ordering.js';

export interface CatalogueEntry {
  readonly scenario: Scenario;
  /** Module URL the CPU workers import. */
  readonly url: string;
}

export const BUILTIN: readonly CatalogueEntry[] = [
  oomReaper2017,
  mreleaseDanglingMmap,
  populateAfterReap,
  zapSamePtes,
  munlockVsReaper2018,
  exitMmapWriteLock2021,
  exitMmapReadThenWrite2022,
  exitAioLiveness,
  doubleEnqueue2019,
  vmaLockFork,
  vmaLockStackExpand,
  vmaLockRefcnt,
  vmaLockRfcSeq,
  vmaLockUffdOrdering,
  vmaLockNewVma,
  vmaLockJannUaf,
  vmaLockExitMmap,
].map((s) => ({
  scenario: s,
  url: scenarioUrl(s),
}));

/**
 * Long-running scenarios, found by id (`mmrace repro teardown-soak`, `npm run soak`) but not part of
 * BUILTIN: `mmrace` with no command runs every BUILTIN scenario's era matrix as the verdict table.
 * The entries are made on first use: teardown-soak.ts imports 'mmrace' (src/index.ts), which
 * imports this module, so when a CPU worker loads teardown-soak.ts first, this module runs before
 * teardown-soak.ts has defined its scenario.
 */
let soaks: readonly CatalogueEntry[] | undefined;
export function soakEntries(): readonly CatalogueEntry[] {
  soaks ??= [teardownSoak, vmaLockExitMmapPastMmput, vmaLockRfcBounds, vmaLockSoak].map((s) => ({
    scenario: s,
    url: scenarioUrl(s),
  }));
  return soaks;
}

export function findScenario(id: string): CatalogueEntry | undefined {
  return BUILTIN.find((e) => e.scenario.id === id) ?? soakEntries().find((e) => e.scenario.id === id);
}

/** Anything wrong with a user's scenario file: one line, starting with the path as typed. */
export class ScenarioFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioFileError';
  }
}

const JS = ['.js', '.mjs', '.cjs'];
const TS = ['.ts', '.mts', '.cts'];

/**
 * A user's scenario module: JavaScript, or TypeScript that esbuild bundles first (load_ts.ts).
 * The scenario is checked against the schema, and the statics and slab caches its module defined
 * must fit the machine's arena.
 */
export async function loadScenarioFile(path: string): Promise<CatalogueEntry> {
  // A problem located in the file itself already reads "file:line:col: ...".
  const fail = (why: string): never => {
    throw new ScenarioFileError(why.startsWith(`${path}:`) ? why : `${path}: ${why}`);
  };
  const abs = resolve(path);
  const st = statSync(abs, { throwIfNoEntry: false });
  if (!st) return fail('no such scenario file');
  if (st.isDirectory()) return fail('is a directory, not a scenario file');
  const ext = extname(abs);
  if (!JS.includes(ext) && !TS.includes(ext))
    return fail(
      `unsupported extension '${ext}': scenario files must be JavaScript modules (${JS.join(', ')}) ` +
        `or TypeScript (${TS.join(', ')})`,
    );
  let url = pathToFileURL(abs).href;
  if (TS.includes(ext)) {
    try {
      url = await compileTs(abs);
    } catch (e) {
      if (!(e instanceof TsBuildError)) throw e;
      return fail(e.missingPackage === 'mmrace' ? mmraceNotFound(dirname(abs)) : e.message);
    }
  }
  let scenario: Scenario;
  try {
    scenario = await loadScenario(url);
  } catch (e) {
    if (e instanceof ScenarioError || e instanceof NoScenarioExportError || isNamed(e, 'ScenarioError'))
      return fail((e as Error).message);
    return fail(describeLoadError(e, abs, url));
  }
  try {
    Arena.layout(machineRegions());
  } catch (e) {
    if (e instanceof ArenaLayoutError) return fail(e.message);
    throw e;
  }
  return { scenario, url };
}

// A scenario built with another copy of mmrace (its own node_modules) throws that copy's class.
function isNamed(e: unknown, name: string): boolean {
  return e instanceof Error && e.name === name;
}
