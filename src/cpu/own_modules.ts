// How a thread names and loads mmrace's own modules by path (a campaign's entry module, a built-in
// scenario, an experiment file), in each of the three forms mmrace runs in:
// - bundle: dist/mmrace.js, one file holding every module (scripts/bundle.mjs), which the command,
//   its CPU threads, its machine hosts and every user file's `import 'mmrace'` load. A thread then opens one
//   file instead of ~250, and starts in a third of the time. Its own modules are named
//   'mmrace:own/<path under src>' and come from the bundle's table, never from dist/src, whose
//   copies would be second instances of every module (a second `current`, a second arena view);
// - dist: the compiled modules under dist/src (scripts and test fixtures that reach into
//   internals), whose CPU threads run dist/workers/cpu.js with `import 'mmrace'` resolved to
//   dist/src/index.js (threadEntry());
// - src: the TypeScript sources under vitest, whose CPU threads are dist's.
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const OWN = 'mmrace:own/';

// Defined (true) by scripts/bundle.mjs: known before any module of the bundle runs, as the
// built-in scenarios' names are made when the catalogue's module does.
declare const MMRACE_BUNDLE: true | undefined;
const BUNDLED = typeof MMRACE_BUNDLE !== 'undefined';

type Loader = () => Promise<unknown>;
let table: Record<string, Loader> | null = null;

/** Called by the bundle's generated entry with its table of the modules loaded by path. */
export function registerBundle(modules: Record<string, Loader>): void {
  table = modules;
}

type Form = 'bundle' | 'dist' | 'src';

const FORM: Form = BUNDLED ? 'bundle' : import.meta.url.endsWith('.ts') ? 'src' : 'dist';

// bundle: <root>/dist/mmrace.js; this file: <root>/src/cpu/ or <root>/dist/src/cpu/.
const ROOT = fileURLToPath(
  new URL({ bundle: '../', dist: '../../../', src: '../../' }[FORM], import.meta.url),
);

/** mmrace's package directory (with a trailing slash). */
export function packageRoot(): string {
  return ROOT;
}

const BUNDLE_FILE = BUNDLED ? fileURLToPath(import.meta.url) : null;

/** The bundle's file, when this thread runs it. */
export function bundleFile(): string | null {
  return BUNDLE_FILE;
}

/** The module specifier of `rel` (a path under src/, ending in .js), for this thread or a CPU's. */
export function ownModule(rel: string): string {
  return `${OWN}${rel}`;
}

/** import() that also takes ownModule()'s names: each form's copy of the module. */
export function importModule(spec: string): Promise<unknown> {
  if (!spec.startsWith(OWN)) return import(spec);
  const rel = spec.slice(OWN.length);
  if (FORM === 'dist') return import(pathToFileURL(`${ROOT}dist/src/${rel}`).href);
  if (FORM === 'src') return import(pathToFileURL(`${ROOT}src/${rel.replace(/\.js$/, '.ts')}`).href);
  const load = table?.[rel];
  if (!load) return Promise.reject(new Error(`mmrace's bundle has no module ${rel}`));
  return load();
}

/** The own modules of a folder under src/ ('experiments/bench/'), as ownModule() names, sorted. */
export function ownModulesIn(dir: string): string[] {
  if (FORM === 'bundle') {
    return Object.keys(table ?? {})
      .filter((k) => k.startsWith(dir) && !k.slice(dir.length).includes('/'))
      .sort()
      .map(ownModule);
  }
  const src = FORM === 'src';
  const files = readdirSync(`${ROOT}${src ? 'src' : 'dist/src'}/${dir}`)
    .filter((f) => (src ? f.endsWith('.ts') && !f.endsWith('.d.ts') : f.endsWith('.js')))
    .sort();
  return files.map((f) => ownModule(`${dir}${f.replace(/\.ts$/, '.js')}`));
}

/** The node option under which `import 'mmrace'` is the compiled modules (package.json's exports). */
export const DIST_CONDITION = '--conditions=mmrace-dist';

/**
 * A thread or process this thread starts (a CPU worker, a machine host): its file and node options. The
 * bundle's threads run the bundle; the others run the compiled modules' entries under
 * DIST_CONDITION, so that a fixture that imports both 'mmrace' and internals from dist/src gets
 * one copy of each module.
 */
export function threadEntry(kind: 'cpu' | 'host'): { file: string; execArgv: string[] | undefined } {
  if (FORM === 'bundle') return { file: `${ROOT}dist/${kind}-worker.js`, execArgv: undefined };
  const execArgv = process.execArgv.includes(DIST_CONDITION)
    ? undefined
    : [...process.execArgv, DIST_CONDITION];
  return { file: `${ROOT}dist/workers/${kind}.js`, execArgv };
}
