// A TypeScript scenario file, made runnable: esbuild bundles it (with the user's own .ts/.js files
// it imports) into one JavaScript module that the main thread and every CPU worker import by URL.
//
// Where the output goes: a private temporary folder, removed when the process exits (a folder left
// by a killed process is removed by the next run). Not beside the user's file: that folder may be
// read-only, would show a stray file, and two runs at once would race on one name. What a sibling
// file would give for free, resolving packages as from the user's folder, is done by esbuild here:
// every package import ('mmrace' first of all) is resolved from the importing file's own folder
// and kept external as that file's absolute URL, so the user's node_modules (or mmrace's own
// package self-reference inside its checkout) is what runs, never a bundled second copy.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuildFailure, Message, Plugin } from 'esbuild';

/** The file could not be turned into JavaScript; the message is one line, with file:line:col. */
export class TsBuildError extends Error {
  constructor(
    message: string,
    /** A package import that did not resolve ('mmrace'), for the caller's advice. */
    readonly missingPackage?: string,
  ) {
    super(message);
    this.name = 'TsBuildError';
  }
}

const PREFIX = 'mmrace-ts-';
let outDir: string | undefined;
let serial = 0;

/** Bundles the TypeScript file at `abs`; returns the URL of the JavaScript module. */
export async function compileTs(abs: string): Promise<string> {
  const cjs = extname(abs) === '.cts';
  const outfile = join(
    tempDir(),
    `${basename(abs).replace(/\.[cm]?ts$/, '')}.${serial++}.${cjs ? 'cjs' : 'mjs'}`,
  );
  // Loaded here, not at start-up: only a .ts scenario needs it (~35 ms).
  const { build, stop } = await import('esbuild');
  try {
    await build({
      entryPoints: [abs],
      outfile,
      bundle: true,
      format: cjs ? 'cjs' : 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'inline',
      sourcesContent: false,
      logLevel: 'silent',
      absWorkingDir: process.cwd(),
      plugins: [packagesFromUsersFolder],
    });
  } catch (e) {
    const first = (e as BuildFailure).errors?.[0];
    if (!first) throw e;
    throw buildError(first);
  } finally {
    // esbuild's service is a child process: ended now, it cannot outlive mmrace (it lingered a
    // second as a defunct process after an exit).
    await stop();
  }
  // Stack traces (a throw at top level, a CPU's crash) name the .ts lines: stack_frames.ts reads
  // the inline map when it prints a frame of this file.
  return pathToFileURL(outfile).href;
}

const SKIP = Symbol('resolving');

// Bare imports ('mmrace', 'node:fs', 'lodash/fp'): resolved where the user's file sits, kept out
// of the bundle. require() gets a path, import an URL.
const packagesFromUsersFolder: Plugin = {
  name: 'packages-from-users-folder',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === SKIP || /^[A-Za-z]:[\\/]/.test(args.path)) return undefined;
      if (isBuiltin(args.path)) return { path: args.path, external: true };
      const r = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: SKIP,
      });
      if (r.errors.length > 0) return { errors: r.errors };
      return { path: args.kind === 'require-call' ? r.path : pathToFileURL(r.path).href, external: true };
    });
  },
};

function buildError(m: Message): TsBuildError {
  const at = m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1}: ` : '';
  const pkg = /^Could not resolve "([^"]+)"/.exec(m.text)?.[1];
  if (pkg && !pkg.startsWith('.') && !pkg.startsWith('/')) {
    const name = pkg.startsWith('@') ? pkg.split('/').slice(0, 2).join('/') : pkg.split('/')[0]!;
    return new TsBuildError(`${at}cannot find package '${name}'`, name);
  }
  return new TsBuildError(`${at}${m.text.split('\n')[0]}`);
}

function tempDir(): string {
  if (outDir) return outDir;
  removeStaleDirs();
  const dir = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
  outDir = dir;
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// Folders of runs that ended without their exit handler (killed): their pid is gone.
function removeStaleDirs(): void {
  for (const name of safeReaddir(tmpdir())) {
    const pid = Number(new RegExp(`^${PREFIX}(\\d+)-`).exec(name)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
