// The build's second step (after tsc): dist/mmrace.js, every module of dist/src in one file, and
// the thread entries that load it. A thread of the bundle opens one file where the compiled
// modules made it open, stat and link ~250, which was most of every command's start (main thread
// 0.48 -> 0.16 s of CPU, a CPU worker's modules ~155 -> ~25 ms). See src/cpu/own_modules.ts for
// how its threads name the modules they load by path (campaign entries, built-in scenarios,
// experiments): the table generated here.
import { chmodSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../', import.meta.url));
const dist = join(root, 'dist');
const src = join(dist, 'src');

/** The compiled modules a thread may load by path: every file under these folders of src/. */
const BY_PATH = ['scenarios', 'experiments'];

function modulesUnder(dir) {
  return readdirSync(join(src, dir), { recursive: true })
    .map((f) => join(dir, String(f)).split('\\').join('/'))
    .filter((f) => f.endsWith('.js'))
    .sort();
}

const table = BY_PATH.flatMap(modulesUnder)
  .map((rel) => `  ${JSON.stringify(rel)}: () => import(${JSON.stringify(`./${rel}`)}),`)
  .join('\n');

const entry = `export * from './bundle.js';
import { registerBundle } from './cpu/own_modules.js';
registerBundle({
${table}
});
`;

await build({
  stdin: { contents: entry, resolveDir: src, sourcefile: 'mmrace-bundle-entry.js', loader: 'js' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: join(dist, 'mmrace.js'),
  // commander, tinypool, zod, esbuild, vega...: loaded from node_modules as before.
  packages: 'external',
  // Call traces print function names: two modules' `rwsem_wake` must not print as rwsem_wake2.
  keepNames: true,
  // src/cpu/own_modules.ts: this thread runs the bundle.
  define: { MMRACE_BUNDLE: 'true' },
  // Chained through tsc's maps to src/*.ts, which call traces name (kernel/stack_frames.ts).
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
});

const STUBS = {
  'cli.js': `#!/usr/bin/env node
// The mmrace command (the package's bin): the bundle's cliMain().
import { cliMain } from './mmrace.js';

await cliMain();
`,
  'cpu-worker.js': `// A CPU worker of the bundle (src/cpu/own_modules.ts threadEntry()).
import { cpuThreadInit, cpuWorker } from './mmrace.js';

cpuThreadInit();

export default cpuWorker;
`,
  'host-worker.js': `// A machine host process of the bundle (--machines; src/cpu/own_modules.ts threadEntry()).
import { hostProcessMain } from './mmrace.js';

hostProcessMain();
`,
};
for (const [name, text] of Object.entries(STUBS)) writeFileSync(join(dist, name), text);
chmodSync(join(dist, 'cli.js'), 0o755);
if (process.argv.includes('--verbose')) console.log(`bundled ${relative(root, join(dist, 'mmrace.js'))}`);
