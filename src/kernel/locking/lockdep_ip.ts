// _RET_IP_ and save_trace() for lockdep and lock_stat: a call site is read from the JS stack
// (mirrored functions keep kernel names, so the stack is the kernel's) and interned, so that the
// same site has the same id on every CPU.
import { intern, strAt } from '../../shm/strtab.js';
import { callTrace } from '../panic.js';
import { stackFrames } from '../stack_frames.js';

/** Static inline wrappers (include/linux/mmap_lock.h): their caller is the _RET_IP_. */
const INLINE_FILE = /[/\\]mm[/\\]mmap_lock\.[jt]s$/;

/** Frames captured per call: the API function is a few frames below callerIp, its caller next. */
const IP_STACK_DEPTH = 24;

/**
 * _RET_IP_ of the lock API function `api` that is on the stack: the interned site of its caller,
 * a kernel or user frame, "fn (file:line)" as call traces print it, or "file:line" for an
 * unnamed function; 0 when there is none.
 */
export function callerIp(api: string): number {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = IP_STACK_DEPTH;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const frames = stackFrames(stack);
  let i = frames.findIndex((f) => f.kind === 'kernel' && f.fn === api);
  if (i < 0) return 0;
  for (i++; i < frames.length; i++) {
    const f = frames[i]!;
    if (f.kind === 'kernel' && INLINE_FILE.test(f.file)) continue;
    return intern(f.fn === '<anonymous>' ? f.at : f.text);
  }
  return 0;
}

/** The init site of a lock initialised without a class name: its key, as a name. */
export function initSiteName(api: string): string {
  const ip = callerIp(api);
  if (!ip) return '';
  const s = strAt(ip);
  const m = /^(\S+) \((.*)\)$/.exec(s);
  return m ? `${m[1]}@${m[2]}` : s;
}

export function ipName(ip: number): string {
  return ip ? strAt(ip) : '0x0';
}

export const MAX_TRACE = 8;

// kernel/locking/lockdep.c save_trace(), v6.6: the stack from lock_acquire() down, as interned frames.
export function save_trace(): number[] {
  const frames = callTrace(0, 40);
  const from = frames.findIndex((f) => f.startsWith(' lock_acquire '));
  return frames.slice(Math.max(0, from), Math.max(0, from) + MAX_TRACE).map((f) => intern(f));
}
