// Why a user's scenario module would not load, said in one line: node's own errors carry the
// place (a syntax error's file:line:column, a throw's frame) in the stack, not the message.
import { spawnSync } from 'node:child_process';
import { dirname, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stackFrames } from '../kernel/stack_frames.js';

/** How to make 'mmrace' importable from a folder outside mmrace's checkout. */
export function mmraceNotFound(dir: string): string {
  return (
    `cannot find package 'mmrace' from ${dir}: run 'npm link mmrace' there after 'npm link' in the ` +
    `mmrace checkout, or 'npm install <path-to-mmrace>' (see README "Scenarios in your own folder")`
  );
}

/** The one-line reason, without the file's name in front; `url` is the module that was imported. */
export function describeLoadError(e: unknown, abs: string, url: string): string {
  if (!(e instanceof Error)) return `threw at top level: ${String(e)}`;
  const code = (e as NodeJS.ErrnoException).code;
  const frame = stackFrames(e.stack ?? '').find((f) => f.kind === 'user');
  // A parse error has no frame of the user's; a SyntaxError thrown by running code (JSON.parse) has.
  if (e instanceof SyntaxError && !frame) return syntaxError(e, url);
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return notFound(e, abs);
  if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE')
    return `${firstLine(e.message)}: write the scenario as an ES module (.mjs, import ... from 'mmrace')`;
  const at = frame ? ` (at ${shortPath(frame.file)}:${frame.line})` : '';
  return `threw at top level: ${e.name}: ${firstLine(e.message)}${at}`;
}

function notFound(e: Error, abs: string): string {
  // ESM: "Cannot find package 'x' imported from /dir/f.mjs", "Cannot find module '/dir/y.mjs'
  // imported from /dir/f.mjs"; CommonJS: "Cannot find module 'x'\nRequire stack:\n- /dir/f.cjs".
  const m = /^Cannot find (package|module) '([^']+)'(?: imported from (.+))?/.exec(e.message);
  if (!m) return firstLine(e.message);
  const [, kind, what, from] = m;
  const importer = from ?? /\n- (.+)/.exec(e.message)?.[1] ?? abs;
  const pkg = kind === 'package' || !/^[./]/.test(what!);
  if (pkg && (what === 'mmrace' || what!.startsWith('mmrace/'))) return mmraceNotFound(dirname(importer));
  const by = importer === abs ? '' : ` (imported from ${shortPath(importer)})`;
  return pkg ? `cannot find package '${what}'${by}` : `cannot find module ${shortPath(what!)}${by}`;
}

// A CommonJS syntax error's stack starts "file:line\n<source line>\n   ^"; an ES module's does not,
// so the import is tried again in a child node, whose report of the uncaught error names the file
// (which may be one the scenario imports). Nothing runs there: a syntax error stops the whole
// module graph before any of it is evaluated.
function syntaxError(e: SyntaxError, url: string): string {
  const at = locate(e.stack ?? '') ?? locate(childImportReport(url));
  return `${at ? `${at}: ` : ''}SyntaxError: ${firstLine(e.message)}`;
}

function childImportReport(url: string): string {
  const r = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `await import(${JSON.stringify(url)})`],
    {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  return r.stderr ?? '';
}

/** "file:line:column" from node's "file:line\n<source>\n<spaces>^" header. */
function locate(report: string): string | undefined {
  const m = /^(\S+):(\d+)\n.*\n( *)\^/m.exec(report);
  if (!m) return undefined;
  const file = m[1]!.startsWith('file:') ? fileURLToPath(m[1]!) : m[1]!;
  return `${shortPath(file)}:${m[2]}:${m[3]!.length + 1}`;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}

/** A path relative to the working directory when it is inside it, as the user types paths. */
export function shortPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') ? file : rel.split(sep).join('/');
}
