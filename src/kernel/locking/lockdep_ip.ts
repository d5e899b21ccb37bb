// _RET_IP_ and save_trace() for lockdep and lock_stat: a call site is read from the JS stack
// (mirrored functions keep kernel names, so the stack is the kernel's) and interned, so that the
// same site has the same id on every CPU.
import { intern, strAt } from '../../shm/strtab.js';
import { callTrace } from '../panic.js';

const FRAME = /^\s*at (?:[\w$.]+\.)?([\w$<>]+) \((.*?):(\d+):\d+\)$|^\s*at (.*?):(\d+):\d+$/;

function shortPath(file: string): string {
  for (const dir of ['/src/', '/test/', '/workers/']) {
    const at = file.lastIndexOf(dir);
    if (at >= 0) {
      const p = file.slice(at + 1).replace(/\.js$/, '.ts');
      return dir === '/src/' ? p.slice(4) : p;
    }
  }
  return file.slice(file.lastIndexOf('/') + 1);
}

/** One call-site string, "function (file:line)" as the call traces print it. */
function site(line: string): { fn: string; at: string } | undefined {
  const m = FRAME.exec(line);
  if (!m) return undefined;
  if (m[1] !== undefined) return { fn: m[1], at: `${m[1]} (${shortPath(m[2]!)}:${m[3]})` };
  return { fn: '', at: `${shortPath(m[4]!)}:${m[5]}` };
}

/** Static inline wrappers (include/linux/mmap_lock.h): their caller is the _RET_IP_. */
const INLINE_FILE = /\/mm\/mmap_lock\.[jt]s:/;

/**
 * _RET_IP_ of the lock API function `api` that is on the stack: the interned site of its caller
 * (0 when it cannot be found).
 */
export function callerIp(api: string): number {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 16;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const lines = stack.split('\n');
  let i = 1;
  while (i < lines.length && site(lines[i]!)?.fn !== api) i++;
  for (i++; i < lines.length; i++) {
    if (INLINE_FILE.test(lines[i]!)) continue;
    const s = site(lines[i]!);
    if (s) return intern(s.at);
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
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const frames = callTrace();
  Error.stackTraceLimit = limit;
  const from = frames.findIndex((f) => f.startsWith(' lock_acquire '));
  return frames.slice(Math.max(0, from), Math.max(0, from) + MAX_TRACE).map((f) => intern(f));
}
