// A CPU whose program misbehaves: what it reports and how. Built in the worker (a throw, a Promise
// returned, process.exit()) or on the main thread (the worker thread died: out of memory).
import { inspect } from 'node:util';
import { mem } from '../shm/arena.js';
import { AbortReason, C, CRASH_TEXT_WORDS, ctl } from './control.js';

/**
 * threw: the program threw; promise: it returned a thenable (CPU programs must be synchronous);
 * exit: it called process.exit(); oom: its worker ran out of heap; died: its worker ended otherwise.
 */
export type CrashKind = 'threw' | 'promise' | 'exit' | 'oom' | 'died';

export interface CpuCrash {
  cpu: number;
  /** The scenario's name of the CPU, when the campaign gave the machine its CPUs' names. */
  cpuName?: string;
  kind: CrashKind;
  /** The thrown Error's name ('TypeError'), or what happened ('process.exit'). */
  name: string;
  /** One line: the Error's message, or what happened. */
  message: string;
  /** The full report: the stack when there is one, else the message. */
  stack: string;
}

/** The report line: `CPU1 (thrower) crashed: TypeError: ...` and the stack below it. */
export function crashLine(c: CpuCrash): string {
  const who = `CPU${c.cpu}${c.cpuName ? ` (${c.cpuName})` : ''}`;
  if (c.kind === 'oom') return `${who} ${c.message}`;
  return `${who} crashed: ${c.stack || c.message}`;
}

/** Never throws: the thrown value can be anything (a Proxy, an Error whose stack getter throws). */
function show(v: unknown): string {
  try {
    return inspect(v, { depth: 2, breakLength: Infinity });
  } catch {
    return Object.prototype.toString.call(v);
  }
}

function stackOf(e: unknown): string | undefined {
  try {
    const s = (e as { stack?: unknown } | null)?.stack;
    return typeof s === 'string' && s.length > 0 ? s : undefined;
  } catch {
    return undefined;
  }
}

/** What a thrown value says about itself; an Error from another realm counts as an Error. */
export function describeThrown(cpu: number, e: unknown): CpuCrash {
  const stack = e !== null && typeof e === 'object' ? stackOf(e) : undefined;
  if (stack) {
    let name = 'Error';
    let message = stack.split('\n')[0]!;
    try {
      name = String((e as Error).name ?? name);
      message = String((e as Error).message ?? message);
    } catch {}
    return { cpu, kind: 'threw', name, message, stack };
  }
  const message = `its program threw ${show(e)}, which is not an Error: there is no stack to show`;
  return { cpu, kind: 'threw', name: 'thrown value', message, stack: message };
}

export const PROMISE_MESSAGE = 'its program returned a Promise; CPU programs must be synchronous';

/** The program returned a thenable; `after` is what became of it, when known in time. */
export function promiseCrash(cpu: number, after?: string): CpuCrash {
  const stack = after ? `${PROMISE_MESSAGE}\n${after}` : PROMISE_MESSAGE;
  return { cpu, kind: 'promise', name: 'Promise', message: PROMISE_MESSAGE, stack };
}

/** process.exit(code) called by the program; `stack` is taken inside process.exit's 'exit' event. */
export function exitCrash(cpu: number, code: number, stack: string): CpuCrash {
  const message = `its program called process.exit(${code}), which ends the CPU's worker thread`;
  const lines = stack.split('\n');
  const at = lines.findIndex((l) => /\bat process\.exit\b/.test(l));
  const frames = at >= 0 ? lines.slice(at + 1) : lines.slice(1);
  return { cpu, kind: 'exit', name: 'process.exit', message, stack: [message, ...frames].join('\n') };
}

export function oomCrash(cpu: number, heapMb: number): CpuCrash {
  const message = `ran out of memory (heap limit ${heapMb} MB)`;
  return { cpu, kind: 'oom', name: 'ERR_WORKER_OUT_OF_MEMORY', message, stack: message };
}

/** The worker thread ended without a report of its own (a task rejection, an exit code). */
export function diedCrash(cpu: number, why: string, e?: unknown): CpuCrash {
  const message = `its worker thread ${why}`;
  const detail = e === undefined ? undefined : (stackOf(e) ?? show(e));
  return { cpu, kind: 'died', name: 'worker', message, stack: detail ? `${message}: ${detail}` : message };
}

/**
 * Stops every CPU of the campaign: used by a CPU whose program crashed, by its process.exit()
 * handler, and by the main thread when a worker died without a word.
 */
export function stopCampaign(i32: Int32Array, cpu: number): void {
  const b = ctl();
  if (Atomics.compareExchange(i32, b + C.ABORT, AbortReason.None, AbortReason.Crash) === AbortReason.None) {
    Atomics.store(i32, b + C.ABORT_CPU, cpu);
  } else if (Atomics.load(i32, b + C.ABORT) !== AbortReason.Crash) {
    // An Oops or a timeout was being handled: a crash overrides it, the campaign is over.
    Atomics.store(i32, b + C.ABORT, AbortReason.Crash);
    Atomics.store(i32, b + C.ABORT_CPU, cpu);
  }
  Atomics.store(i32, b + C.STOP, 1);
  Atomics.notify(i32, b + C.RUN_GEN);
  Atomics.notify(i32, b + C.DONE);
  Atomics.notify(i32, b + C.TOKEN); // the decider (controlled mode) sleeps on it
}

const encoder = new TextEncoder();

/**
 * Publishes a crash report in the control block, so that the main thread has it even when no
 * message will come (process.exit() ends the thread; a program can hang after it crashed). The
 * first crash of the campaign wins. Bytes go through Atomics like every shared word.
 */
export function publishCrash(c: CpuCrash): void {
  const i32 = mem.i32;
  const b = ctl();
  if (Atomics.compareExchange(i32, b + C.CRASH_CLAIM, 0, 1) !== 0) return;
  const cap = CRASH_TEXT_WORDS * 4;
  let bytes = encoder.encode(JSON.stringify(c));
  // Too long (a deep stack of long paths): halve the stack until the JSON fits.
  for (let keep = c.stack.length; bytes.length > cap; ) {
    keep >>= 1;
    const cut = { ...c, message: c.message.slice(0, 500), stack: `${c.stack.slice(0, keep)}\n    ...` };
    bytes = encoder.encode(JSON.stringify(cut));
  }
  const u8 = mem.arena.u8;
  const at = (b + C.CRASH_TEXT) * 4;
  for (let i = 0; i < bytes.length; i++) Atomics.store(u8, at + i, bytes[i]!);
  Atomics.store(i32, b + C.CRASH_LEN, bytes.length);
}

/** The crash report a CPU published, if any (complete: its length is stored last). */
export function readPublishedCrash(): CpuCrash | undefined {
  const i32 = mem.i32;
  const b = ctl();
  const n = Atomics.load(i32, b + C.CRASH_LEN);
  if (n <= 0) return undefined;
  const u8 = mem.arena.u8;
  const at = (b + C.CRASH_TEXT) * 4;
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = Atomics.load(u8, at + i);
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as CpuCrash;
  } catch {
    return undefined; // not expected (the writer stores whole JSON): fall back to what is known
  }
}

/** Before a campaign: no crash published. */
export function clearPublishedCrash(): void {
  const i32 = mem.i32;
  Atomics.store(i32, ctl() + C.CRASH_LEN, 0);
  Atomics.store(i32, ctl() + C.CRASH_CLAIM, 0);
}
