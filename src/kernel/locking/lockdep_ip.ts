// _RET_IP_ and save_trace() for lockdep and lock_stat. A call site is a frame of the JS stack
// (mirrored functions keep kernel names, so the stack is the kernel's), printed "fn (file:line)"
// as call traces print it, and interned, so that the same site has the same id on every CPU.
//
// The kernel's _RET_IP_ is one register read; formatting a JS stack (and source-mapping it) cost
// about 17 µs per acquisition. So an acquisition's hook (lockdep.ts spin_acquire() and the like)
// makes an Error of the few raw V8 frames it needs (its own, the API function's, the caller's and,
// past an inline wrapper, the next), never formatted nor source-mapped, and the caller's frame, as
// (script, position), is looked up in this thread's table of sites already symbolized. Only a
// site seen for the first time in this thread (and arena) is symbolized from the formatted stack,
// exactly as before; the table checks that the raw frame it chose is the one the formatted stack
// named, and a frame it cannot vouch for is symbolized every time. save_trace() keys the raw
// frames from lock_acquire() down to the last one the trace prints the same way. V8's capture of
// even one raw frame is what an acquisition still pays (2-5 µs on a loaded 2-vCPU host).
//
// The CPUs of a controlled run can skip even that (lockdep_state.ts lazySites()): the run is
// deterministic, so they store LAZY_IP for every site and LAZY_TRACE for every new dependency,
// and a campaign that finds a report printing one replays the run without lazy sites for them
// (scenarios/report_replay.ts), as the kernel only ever pays for a trace when a report or a new
// dependency needs it.
import { type Arena, mem } from '../../shm/arena.js';
import { intern, strAt } from '../../shm/strtab.js';
import { callTrace, hiddenFrame } from '../panic.js';
import {
  bundleFrameKind,
  FILE_BUNDLE,
  FILE_ENTRY,
  FILE_KERNEL,
  FILE_SKIP,
  fileKind,
  type StackFrame,
  stackFrames,
} from '../stack_frames.js';
import { lockdepSiteCheck, noteSiteCapture, noteSiteMismatch, noteTraceCapture } from './lockdep_state.js';

/** Static inline wrappers (include/linux/mmap_lock.h): their caller is the _RET_IP_. */
const INLINE_FILE = /[/\\]mm[/\\]mmap_lock\.[jt]s$/;

/** Formatted frames captured to symbolize: the API function is a few frames down, its caller next. */
const IP_STACK_DEPTH = 24;

/**
 * Raw frames captured per acquisition: the API function's out-of-line debug half (rwsem.ts,
 * spinlock.ts), the API function, its caller (or an inline wrapper), the wrapper's caller.
 */
const RAW_IP_DEPTH = 4;

/**
 * Raw frames save_trace() captures to key a path: lockdep's own frames, then the trace's (and a
 * few left out, such as the lock functions' out-of-line debug halves).
 */
const RAW_TRACE_DEPTH = 16;

// biome-ignore lint/complexity/noBannedTypes: Error.captureStackTrace takes any function
type Fn = Function;
type Site = NodeJS.CallSite;

const holder: { stack?: unknown } = {};
const rawFrames = (_e: Error, cs: Site[]): Site[] => cs;

/**
 * V8's call sites of the frames below `below` (which must be on the stack), innermost first, at
 * most `limit`: captured without formatting them (Error.prepareStackTrace returns them as they
 * are), so no source map is read. Undefined when the engine does not hand them over.
 */
function captureRaw(below: Fn, limit: number): Site[] | undefined {
  const lim = Error.stackTraceLimit;
  const prep = Error.prepareStackTrace;
  Error.stackTraceLimit = limit;
  Error.prepareStackTrace = rawFrames;
  let cs: unknown;
  try {
    Error.captureStackTrace(holder, below);
    cs = holder.stack;
  } finally {
    Error.prepareStackTrace = prep;
    Error.stackTraceLimit = lim;
    holder.stack = undefined;
  }
  return Array.isArray(cs) ? (cs as Site[]) : undefined;
}

/** A frame's function name as stackFrames() reads it from the formatted line. */
function nameOf(c: Site): string {
  const n = c.getFunctionName() ?? '';
  return n.slice(n.lastIndexOf('.') + 1) || '<anonymous>';
}

// Scripts by name (getFileName()), numbered per thread; their class (stack_frames.ts fileKind())
// with INLINE for the inline wrappers' file. The bundle's frames are classed one by one (frameClass()).
const INLINE = 8;
const CLASS = 7;
const scriptIds = new Map<string, number>();
const scriptClass: number[] = [];

function scriptOf(c: Site): number {
  const name = c.getFileName() ?? '';
  let id = scriptIds.get(name);
  if (id === undefined) {
    id = scriptClass.length;
    const k = fileKind(name);
    scriptClass.push(k === FILE_KERNEL && INLINE_FILE.test(name) ? k | INLINE : k);
    scriptIds.set(name, id);
  }
  return id;
}

/** Classes of the bundle's frames, by position. */
const bundleClasses = new Map<number, number>();

/** A frame's class, as its script's is (scriptOf()); for the bundle, its source's. */
function frameClass(c: Site): number {
  const k = scriptClass[scriptOf(c)]!;
  if (k !== FILE_BUNDLE) return k;
  const pos = c.getPosition();
  let b = bundleClasses.get(pos);
  if (b === undefined) {
    const f = bundleFrameKind(c.getLineNumber() ?? 0, c.getColumnNumber() ?? 0);
    b = f.kind === FILE_KERNEL && INLINE_FILE.test(f.file) ? f.kind | INLINE : f.kind;
    bundleClasses.set(pos, b);
  }
  return b;
}

/** 2^26: a frame's key is script * POS + position (positions are character offsets in the script). */
const POS = 0x4000000;

/** What the table holds for a frame it cannot vouch for: symbolize from the formatted stack every time. */
const UNTRUSTED = -1;

// The interned ids are the arena's: the tables start afresh with a new arena.
let tablesArena: Arena | undefined;
const siteTable = new Map<number, number>();
const traceTable = new Map<string, readonly number[] | null>();

function tables(): void {
  if (tablesArena === mem.arena) return;
  siteTable.clear();
  traceTable.clear();
  tablesArena = mem.arena;
}

// siteKey()'s answer besides a key, and the frames it picked.
const NO_KEY = -1;
const RAN_OUT = -2;
let keyApi = 0;
let keySite = 0;

/**
 * The key of the site of `api` in raw frames `cs`: the first frame after the API function's that
 * stackFrames() would keep and that is no inline wrapper. NO_KEY when there is none to key (the
 * API function is not a kernel frame, the harness's entry comes first); RAN_OUT when `cs` ends
 * before it.
 */
function siteKey(cs: Site[], api: string, from: number): number {
  let i = from;
  while (i < cs.length && cs[i]!.getFunctionName() !== api && nameOf(cs[i]!) !== api) i++;
  if (i === cs.length) return RAN_OUT;
  if ((frameClass(cs[i]!) & CLASS) !== FILE_KERNEL) return NO_KEY;
  for (let j = i + 1; j < cs.length; j++) {
    const c = cs[j]!;
    const k = frameClass(c);
    if (k === FILE_SKIP || k & INLINE) continue;
    if (k === FILE_ENTRY) return NO_KEY;
    keyApi = i;
    keySite = j;
    return scriptOf(c) * POS + c.getPosition();
  }
  return RAN_OUT;
}

interface Symbolized {
  id: number;
  frames: StackFrame[];
  /** Index in `frames` of the API function and of its caller (-1: none). */
  api: number;
  site: number;
}

/** The site of `api` read from the formatted stack: the way every acquisition paid for it before. */
function symbolize(api: string): Symbolized {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = IP_STACK_DEPTH;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const frames = stackFrames(stack);
  const a = frames.findIndex((f) => f.kind === 'kernel' && f.fn === api);
  let s = -1;
  if (a >= 0) {
    for (let i = a + 1; i < frames.length; i++) {
      const f = frames[i]!;
      if (f.kind === 'kernel' && INLINE_FILE.test(f.file)) continue;
      s = i;
      break;
    }
  }
  const f = s >= 0 ? frames[s]! : undefined;
  return { id: f ? intern(f.fn === '<anonymous>' ? f.at : f.text) : 0, frames, api: a, site: s };
}

/** Does the formatted stack name the raw frames siteKey() picked (the same function, as many inline wrappers between)? */
function agrees(cs: Site[], r: Symbolized): boolean {
  if (r.site < 0 || nameOf(cs[keySite]!) !== r.frames[r.site]!.fn) return false;
  let inline = 0;
  for (let j = keyApi + 1; j < keySite; j++) if (frameClass(cs[j]!) & INLINE) inline++;
  return inline === r.site - r.api - 1;
}

/**
 * _RET_IP_ of the lock API function `api`, which called `below` (a function of lockdep's that is
 * on the stack; by default callerIp's own caller): the interned site of its caller, a kernel or
 * user frame, "fn (file:line)" as call traces print it, or "file:line" for an unnamed function;
 * 0 when there is none.
 */
export function callerIp(api: string, below: Fn = callerIp): number {
  noteSiteCapture();
  const cs = captureRaw(below, RAW_IP_DEPTH);
  return cs ? ipFromRaw(cs, 0, api, below) : symbolize(api).id;
}

/**
 * The Error an acquisition's hook makes in its own frame, as the first thing it does, to find its
 * _RET_IP_ with ipOfError(): the raw frames of the hook, the API function's debug half, the API
 * function, its caller and (past an inline wrapper) the caller's caller, and no more, so that V8
 * walks as few frames as it can.
 */
export const ACQUIRE_IP_DEPTH = 5;

/** _RET_IP_ of the lock API function `api` from an Error made by `hook`, the function `api` called (see ACQUIRE_IP_DEPTH). */
export function ipOfError(e: Error, api: string, hook: Fn, skip = 1): number {
  const prep = Error.prepareStackTrace;
  Error.prepareStackTrace = rawFrames;
  let cs: unknown;
  try {
    cs = e.stack;
  } finally {
    Error.prepareStackTrace = prep;
  }
  // cs[skip - 1] is the hook's own frame.
  return Array.isArray(cs) ? ipFromRaw(cs as Site[], skip, api, hook) : callerIp(api, hook);
}

/**
 * _RET_IP_ for an acquisition hook (spin_acquire() and the rwsem ones), called first thing in it:
 * the Error is made here, one frame below the hook, so that V8 walks as few frames as it can.
 */
export function acquireIp(api: string, hook: Fn): number {
  noteSiteCapture();
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = ACQUIRE_IP_DEPTH + 1;
  const e = new Error();
  Error.stackTraceLimit = limit;
  return ipOfError(e, api, hook, 2);
}

function ipFromRaw(raw: Site[], from: number, api: string, below: Fn): number {
  tables();
  let cs: Site[] | undefined = raw;
  let key = siteKey(cs, api, from);
  if (key === RAN_OUT) {
    cs = captureRaw(below, IP_STACK_DEPTH);
    key = cs ? siteKey(cs, api, 0) : NO_KEY;
  }
  if (key < 0 || !cs) {
    stats.symbolized++;
    return symbolize(api).id;
  }
  const id = siteTable.get(key);
  if (id === undefined) {
    const r = symbolize(api);
    const ok = agrees(cs, r);
    siteTable.set(key, ok ? r.id : UNTRUSTED);
    stats.learned++;
    if (!ok) stats.untrusted++;
    return r.id;
  }
  if (id === UNTRUSTED) {
    stats.symbolized++;
    return symbolize(api).id;
  }
  stats.answered++;
  if (lockdepSiteCheck() && symbolize(api).id !== id) noteSiteMismatch();
  return id;
}

/** This thread's use of the site and trace tables (tests, benchmarks). */
export interface SiteTableStats {
  /** Sites symbolized once and entered in the table (`untrusted` of them marked for symbolizing every time). */
  learned: number;
  untrusted: number;
  /** Acquisitions whose site the table answered. */
  answered: number;
  /** Acquisitions symbolized from the formatted stack (no key, or an untrusted one). */
  symbolized: number;
  /** Traces the table answered, and traces formatted. */
  tracesAnswered: number;
  tracesFormatted: number;
}

const stats: SiteTableStats = {
  learned: 0,
  untrusted: 0,
  answered: 0,
  symbolized: 0,
  tracesAnswered: 0,
  tracesFormatted: 0,
};

export function siteTableStats(): SiteTableStats {
  return { ...stats };
}

/** The init site of a lock initialised without a class name: its key, as a name. */
export function initSiteName(api: string): string {
  const ip = callerIp(api, initSiteName);
  if (!ip) return '';
  const s = strAt(ip);
  const m = /^(\S+) \((.*)\)$/.exec(s);
  return m ? `${m[1]}@${m[2]}` : s;
}

/** The site a lazy run stores instead of capturing it (never an interned id: those are >= 0). */
export const LAZY_IP = -1;
/** The trace a lazy run stores for a new dependency. */
export const LAZY_TRACE: readonly number[] = [LAZY_IP];
const LAZY_SITE = '<site: replay the run>';
const LAZY_TRACE_LINE = ' <trace: replay the run>';

export function ipName(ip: number): string {
  if (ip === LAZY_IP) return LAZY_SITE;
  return ip ? strAt(ip) : '0x0';
}

/** One line of a saved trace, as callTrace() printed it. */
export function traceLine(id: number): string {
  return id === LAZY_IP ? LAZY_TRACE_LINE : strAt(id);
}

/** Does a log line print a site or a trace that a lazy run left to its replay? */
export function hasLazySite(line: string): boolean {
  return line.includes(LAZY_SITE) || line.includes(LAZY_TRACE_LINE);
}

export const MAX_TRACE = 8;

/** The trace as callTrace() prints it: from lock_acquire() down, MAX_TRACE frames. */
function formattedTrace(): string[] {
  const frames = callTrace(0, 40);
  const from = frames.findIndex((f) => f.startsWith(' lock_acquire '));
  return frames.slice(Math.max(0, from), Math.max(0, from) + MAX_TRACE);
}

/**
 * The raw frames from lock_acquire() down to the last one the trace can print (the MAX_TRACE-th
 * kernel or user frame, or the harness's entry frame, which ends every trace), as a key; undefined
 * when they are not all in `cs`. Frames [from, to) are the trace's.
 */
function traceKey(cs: Site[]): { key: string; from: number; to: number } | undefined {
  let i = 0;
  while (i < cs.length && !(nameOf(cs[i]!) === 'lock_acquire' && frameClass(cs[i]!) === FILE_KERNEL)) i++;
  let key = '';
  let kept = 0;
  for (let j = i; j < cs.length; j++) {
    const c = cs[j]!;
    const k = frameClass(c) & CLASS;
    if (k === FILE_ENTRY) return { key, from: i, to: j };
    key += `${scriptOf(c)}:${c.getPosition()},`;
    // Counted as callTrace() prints: a kernel frame it hides is not one of the MAX_TRACE.
    if (k === FILE_SKIP || (k === FILE_KERNEL && hiddenFrame(nameOf(c)))) continue;
    if (++kept === MAX_TRACE) return { key, from: i, to: j + 1 };
  }
  return undefined;
}

/**
 * Are the trace's functions, in order, those of the kernel and user frames among the raw frames
 * [from, to) (call traces leave out a few kernel helpers, never a user frame), down to the last?
 * Then the trace is the raw frames' alone, and the key may stand for it.
 */
function traceAgrees(cs: Site[], from: number, to: number, trace: readonly string[]): boolean {
  let j = from;
  for (const line of trace) {
    const fn = /^ (\S+) \(/.exec(line)?.[1] ?? '<anonymous>';
    for (; j < to; j++) {
      const k = frameClass(cs[j]!) & CLASS;
      if (k === FILE_SKIP) continue;
      if (nameOf(cs[j]!) === fn) break;
      if (k !== FILE_KERNEL) return false;
    }
    if (j === to) return false;
    j++;
  }
  // Past the trace's last frame: nothing the trace would have printed (it is MAX_TRACE long, or
  // the key ends at the entry frame).
  if (trace.length < MAX_TRACE) {
    for (; j < to; j++) if ((frameClass(cs[j]!) & CLASS) !== FILE_SKIP) return false;
  }
  return true;
}

// kernel/locking/lockdep.c save_trace(), v6.6: the stack from lock_acquire() down, as interned
// frames. A path already seen in this thread costs one raw capture.
export function save_trace(): number[] {
  noteTraceCapture();
  tables();
  const cs = captureRaw(save_trace, RAW_TRACE_DEPTH);
  const k = cs ? traceKey(cs) : undefined;
  const known = k ? traceTable.get(k.key) : null;
  if (known && !lockdepSiteCheck()) {
    stats.tracesAnswered++;
    return [...known];
  }
  stats.tracesFormatted++;
  const ids = formattedTrace().map((f) => intern(f));
  if (known && ids.join() !== known.join()) noteSiteMismatch();
  if (cs && k && known === undefined)
    traceTable.set(k.key, traceAgrees(cs, k.from, k.to, ids.map(strAt)) ? ids : null);
  return ids;
}
