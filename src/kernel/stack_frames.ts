// Reading a JS stack as the kernel's: each V8 frame is a kernel frame (mmrace's own kernel code,
// printed relative to src/ as call traces always have), a user frame (a scenario file of the
// user's, printed relative to the working directory, or by its basename outside it), or neither
// (mmrace's CPU machinery, node internals, node_modules), which traces leave out. The frames that
// call into scenario code (a CPU's program, setup, final checks) end the trace: all that is
// outward of them is the harness.
//
// Frames of compiled files (dist/*.js, a .ts scenario's esbuild output) name their source's line:
// each file's source map is read here, the first time one of its frames is printed, instead of by
// Node for every module it loads (process.setSourceMapsEnabled() cost each thread ~0.1 s of its
// start, a third of a CPU worker's, for the few frames a report ever prints). In the bundle
// (dist/mmrace.js, cpu/own_modules.ts) every frame is one file's: its class is its source's, so
// its map is read first.
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFile, packageRoot } from '../cpu/own_modules.js';

export interface StackFrame {
  /** The function's own name ('Object.run' -> 'run'), or '<anonymous>'. */
  fn: string;
  /** Absolute path of the file (for a compiled file, its source: the original .ts). */
  file: string;
  line: number;
  kind: 'kernel' | 'user';
  /** "file:line", the file relative to src/ (kernel) or as userPath() prints it (user). */
  at: string;
  /** "fn (file:line)", as call traces print the frame. */
  text: string;
}

/** Kernel code: the directories whose frames call traces show, relative to src/. */
const KERNEL_DIR = /^(?:dist\/)?src\/((?:kernel|mm|scenarios|experiments)\/.*)$/;
/** The harness files that call scenario code (src/scenarios holds both). */
const ENTRY = /^scenarios\/(?:cpu_entry|campaign|grading|run_setup|user_code)\.[jt]s$/;

// "at [async ][new ]name [as alias] (location:line:col)" or, for an unnamed function,
// "at [async ]location:line:col".
const NAMED = /^\s*at (?:async )?(?:new )?(.*?)(?: \[as [^\]]*\])? \((.*):(\d+):(\d+)\)$/;
const UNNAMED = /^\s*at (?:async )?(.*):(\d+):(\d+)$/;

/** Each compiled file's source map, parsed on first use (null: the file has none). */
const sourceMaps = new Map<string, SourceMap | null>();
const MAP_URL = '//# sourceMappingURL=';

function sourceMapOf(file: string): SourceMap | null {
  let map = sourceMaps.get(file);
  if (map !== undefined) return map;
  map = null;
  try {
    const text = readFileSync(file, 'utf8');
    const at = text.lastIndexOf(MAP_URL);
    if (at >= 0) {
      const url = text.slice(at + MAP_URL.length).trim();
      const comma = url.indexOf(',');
      const json = !url.startsWith('data:')
        ? readFileSync(resolve(dirname(file), url), 'utf8')
        : url.slice(0, comma).endsWith(';base64')
          ? Buffer.from(url.slice(comma + 1), 'base64').toString('utf8')
          : decodeURIComponent(url.slice(comma + 1));
      map = new SourceMap(JSON.parse(json));
    }
  } catch {
    map = null; // unreadable file or map: the compiled position is printed
  }
  sourceMaps.set(file, map);
  return map;
}

/** The source file and line of a compiled file's position (1-based line and column), if it has a map. */
function originalPosition(file: string, line: number, column: number): { file: string; line: number } {
  if (!/\.[cm]?js$/.test(file)) return { file, line };
  const map = sourceMapOf(file);
  const e = map?.findEntry(line - 1, column - 1);
  if (!map || !e || !('originalSource' in e)) return { file, line };
  const sourceRoot = map.payload.sourceRoot ?? '';
  return { file: resolve(dirname(file), sourceRoot, e.originalSource), line: e.originalLine + 1 };
}

function pathOf(location: string): string | undefined {
  if (location.startsWith('file://')) {
    try {
      return fileURLToPath(location);
    } catch {
      return undefined;
    }
  }
  // Source-mapped frames carry a plain absolute path; node:internal, eval, data: and the like are
  // not files.
  return location.startsWith('/') || /^[A-Za-z]:[\\/]/.test(location) ? location : undefined;
}

function userPath(file: string): string {
  const rel = relative(process.cwd(), file);
  if (rel === '' || rel.startsWith('..') || rel.startsWith(sep) || /^[A-Za-z]:/.test(rel))
    return basename(file);
  return rel.split(sep).join('/');
}

/** What a file's frames are: kernel (with its path relative to src/), user, entry, or left out. */
type FileClass = { kind: 'kernel'; rel: string } | { kind: 'user' } | { kind: 'entry' } | undefined;

function classify(file: string): FileClass {
  const root = packageRoot();
  const inRoot = file.startsWith(root) ? file.slice(root.length).split(sep).join('/') : undefined;
  if (inRoot !== undefined && /^(?:dist|src|workers|node_modules)\//.test(inRoot)) {
    const k = KERNEL_DIR.exec(inRoot);
    if (!k) return undefined;
    if (ENTRY.test(k[1]!)) return { kind: 'entry' };
    return { kind: 'kernel', rel: k[1]!.replace(/\.js$/, '.ts') };
  }
  if (file.includes(`${sep}node_modules${sep}`)) return undefined;
  return { kind: 'user' };
}

/** A stack line's frame as V8 printed it: the function ('' when unnamed), where, line and column. */
interface RawFrame {
  fn: string;
  location: string;
  line: number;
  column: number;
}

function rawFrame(stackLine: string): RawFrame | undefined {
  const named = NAMED.exec(stackLine);
  if (named) return { fn: named[1]!, location: named[2]!, line: Number(named[3]), column: Number(named[4]) };
  const m = UNNAMED.exec(stackLine);
  return m ? { fn: '', location: m[1]!, line: Number(m[2]), column: Number(m[3]) } : undefined;
}

/** One line of an Error's stack: a kernel or user frame, 'entry' (see ENTRY), or undefined. */
function parseFrame(stackLine: string): StackFrame | 'entry' | undefined {
  const raw = rawFrame(stackLine);
  const compiled = raw && pathOf(raw.location);
  if (compiled === undefined) return undefined;
  // A compiled file's class is its source's (dist/src/x.js and src/x.ts), so the frames a trace
  // leaves out (node_modules, node's own) and the harness's are known before any map is read;
  // the bundle's are known from its map.
  if (compiled !== bundleFile()) {
    const kind = classify(compiled);
    if (kind === undefined) return undefined;
    if (kind.kind === 'entry') return 'entry';
  }
  const { file, line } = originalPosition(compiled, raw!.line, raw!.column);
  // 'Object.run', 'Foo.bar', 'Object.<anonymous>': the function's own name is the last part.
  const fn = raw!.fn.slice(raw!.fn.lastIndexOf('.') + 1) || '<anonymous>';
  const c = classify(file);
  if (c === undefined) return undefined;
  if (c.kind === 'entry') return 'entry';
  const at = c.kind === 'kernel' ? `${c.rel}:${line}` : `${userPath(file)}:${line}`;
  return { fn, file, line, kind: c.kind, at, text: `${fn} (${at})` };
}

/**
 * A stack as Node prints it with source maps on: every frame of a compiled file names its source
 * (for the stacks printed whole, such as an internal error's).
 */
export function sourceMappedStack(stack: string): string {
  return stack
    .split('\n')
    .map((l) => {
      const raw = rawFrame(l);
      const compiled = raw && pathOf(raw.location);
      if (compiled === undefined) return l;
      const o = originalPosition(compiled, raw!.line, raw!.column);
      if (o.file === compiled) return l;
      return l.replace(`${raw!.location}:${raw!.line}:${raw!.column}`, `${o.file}:${o.line}`);
    })
    .join('\n');
}

/**
 * fileKind(): frames a trace leaves out, kernel frames, user frames, the harness's entry frames;
 * the bundle's, whose class is their source's (bundleFrameKind()).
 */
export const FILE_SKIP = 0;
export const FILE_KERNEL = 1;
export const FILE_USER = 2;
export const FILE_ENTRY = 3;
export const FILE_BUNDLE = 4;

function kindOf(c: FileClass): number {
  if (c === undefined) return FILE_SKIP;
  return c.kind === 'kernel' ? FILE_KERNEL : c.kind === 'user' ? FILE_USER : FILE_ENTRY;
}

const kinds = new Map<string, number>();

/**
 * What stackFrames() makes of the frames of the file a V8 CallSite names (getFileName(): a
 * file:// URL, a path, node:internal/..., or nothing): FILE_SKIP, FILE_KERNEL, FILE_USER,
 * FILE_ENTRY, or FILE_BUNDLE. For a source-mapped file this is the class of the compiled file,
 * which is the class of its source for mmrace's own files (dist/src/x.js and src/x.ts are both
 * kernel, or both not); the bundle holds them all.
 */
export function fileKind(location: string | null | undefined): number {
  if (!location) return FILE_SKIP;
  let k = kinds.get(location);
  if (k === undefined) {
    const file = pathOf(location);
    k = file === undefined ? FILE_SKIP : file === bundleFile() ? FILE_BUNDLE : kindOf(classify(file));
    kinds.set(location, k);
  }
  return k;
}

/** The class of a frame of the bundle at (1-based) line and column, and its source file. */
export function bundleFrameKind(line: number, column: number): { kind: number; file: string } {
  const file = originalPosition(bundleFile()!, line, column).file;
  return { kind: kindOf(classify(file)), file };
}

/** The kernel and user frames of a stack, innermost first, up to the harness's call into scenario code. */
export function stackFrames(stack: string): StackFrame[] {
  const out: StackFrame[] = [];
  for (const l of stack.split('\n')) {
    const f = parseFrame(l);
    if (f === 'entry') break;
    if (f) out.push(f);
  }
  return out;
}

/**
 * The user's own frames of an Error's stack, "fn (file:line)", innermost first: for reporting an
 * error thrown by a scenario's setup or final checks without mmrace's or node's frames.
 */
export function userFrames(stack: string): string[] {
  return stackFrames(stack)
    .filter((f) => f.kind === 'user')
    .map((f) => f.text);
}
