// One traced run as a Chrome trace (JSON object format; opens in Perfetto and chrome://tracing).
//
// One process "mmrace"; one thread per CPU, named CPU0, CPU1... (tid = cpu + 1: Perfetto keeps
// tid 0 for the idle task). On each CPU's thread:
//   - kernel function slices (ph B/E, cat 'kernel'), properly nested;
//   - waits (B/E 'wait', cat 'sched': the CPU blocked in a futex-style wait, asleep in schedule())
//     and wake-ups (B/E 'wake', cat 'sched');
//   - a flow arrow (ph s at the waker's 'wake' slice, ph f with bp 'e' on the woken CPU's 'wait'
//     slice, cat 'wakeup') per wake-up that reached a waiting CPU;
//   - an instant (ph i, s 't', cat 'bug') per BUG/WARNING/Oops line printk wrote;
// and lock holds as async slices (ph b/e, cat 'lock', id2.local = lock address @ cpu), since a
// hold does not nest with the function frames.
//
// Timestamps are microseconds from the run's start: real time in free mode, the virtual clock in
// controlled mode. Each thread's are made strictly increasing (10 ns apart at least), which in
// controlled mode orders the events of one scheduling step by their sequence.
//
// The output is always well formed: a slice still open at the CPU's end of run (a KernelOops or
// a stop unwound past it; a lock the task died holding) is closed there; an end whose begin the
// ring overwrote gets its begin at the start of the kept window; an end that matches nothing is
// dropped; a flow with only one end is dropped. Each repair is counted in `stats.repaired`.
import { CpuState } from '../cpu/control.js';
import { LockKind, TraceKind, type TraceSnapshot, WaitCode } from '../cpu/trace_buffer.js';
import type { LockLabel } from './trace_locks.js';

export interface ChromeEvent {
  name: string;
  ph: string;
  pid: number;
  tid?: number;
  ts?: number;
  cat?: string;
  id?: number;
  id2?: { local: string };
  bp?: string;
  s?: string;
  args?: Record<string, string | number | boolean>;
}

export interface ChromeTrace {
  traceEvents: ChromeEvent[];
  displayTimeUnit: 'ms' | 'ns';
  otherData: Record<string, unknown>;
}

export interface ChromeTraceOptions {
  /** Names the locks (report/trace_locks.ts lockNamer); default: the address. */
  lockName?: (addr: number) => LockLabel;
  /** Lines shown as process-wide instants at the end (a deadlock report). */
  notes?: readonly string[];
  /** Copied into otherData (scenario, variant, run, seed, schedule...). */
  meta?: Record<string, unknown>;
}

export interface TraceStats {
  threads: number;
  /** B/E pairs by category. */
  functions: number;
  waits: number;
  wakes: number;
  /** b/e pairs. */
  locks: number;
  flows: number;
  marks: number;
  /** Records lost to the ring, summed over the CPUs. */
  dropped: number;
  /** What had to be closed, invented or dropped to keep the output well formed. */
  repaired: string[];
}

export const TRACE_PID = 1;
const TIEBREAK_NS = 10;
const LOCK_KIND: Record<number, string> = {
  [LockKind.Spin]: 'spin',
  [LockKind.Read]: 'read',
  [LockKind.Write]: 'write',
};
/** A held rwsem's slice is named with its mode, ' (read)' or ' (write)'; a spinlock's is not. */
const lockSuffix = (kind: number): string =>
  kind === LockKind.Read || kind === LockKind.Write ? ` (${LOCK_KIND[kind]})` : '';
const WAIT_RESULT: Record<number, string> = {
  [WaitCode.Ok]: 'woken',
  [WaitCode.NotEqual]: 'not-equal',
  [WaitCode.TimedOut]: 'timed-out',
  [WaitCode.Stopped]: 'stopped',
};
const END_STATE: Record<number, string> = {
  [CpuState.Oops]: 'Oops: the task died here',
  [CpuState.Crashed]: 'the CPU crashed (emulator error)',
  [CpuState.Stopped]: 'stopped: the run ended',
};

const hex = (a: number): string => `0x${(a >>> 0).toString(16)}`;
/** Control characters become spaces: some JSON trace readers reject escaped ones. */
function clean(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c < 0x20 || c === 0x7f ? ' ' : s[i];
  }
  return out;
}

interface Frame {
  name: string;
  cat: string;
}

interface Hold {
  name: string;
  id: string;
  key: string;
}

export function toChromeTrace(
  snap: TraceSnapshot,
  opts: ChromeTraceOptions = {},
): ChromeTrace & { stats: TraceStats } {
  const lockName = opts.lockName ?? ((a: number) => ({ name: `lock@${hex(a)}`, instance: hex(a) }));
  const stats: TraceStats = {
    threads: snap.cpus.length,
    functions: 0,
    waits: 0,
    wakes: 0,
    locks: 0,
    flows: 0,
    marks: 0,
    dropped: 0,
    repaired: [],
  };
  const meta: ChromeEvent[] = [
    { name: 'process_name', ph: 'M', pid: TRACE_PID, args: { name: 'mmrace' } },
    { name: 'process_sort_index', ph: 'M', pid: TRACE_PID, args: { sort_index: 0 } },
  ];
  let t0 = Infinity;
  for (const c of snap.cpus) if (c.events.length > 0) t0 = Math.min(t0, c.events[0]!.ts);
  if (!Number.isFinite(t0)) t0 = 0;
  const body: ChromeEvent[] = [];
  let endNs = 0;
  for (const c of snap.cpus) {
    const tid = c.cpu + 1;
    meta.push(
      { name: 'thread_name', ph: 'M', pid: TRACE_PID, tid, args: { name: `CPU${c.cpu}` } },
      { name: 'thread_sort_index', ph: 'M', pid: TRACE_PID, tid, args: { sort_index: c.cpu } },
    );
    stats.dropped += c.dropped;
    const out = convertCpu(snap, c.cpu, c.events, c.dropped, t0, lockName, stats);
    for (const e of out.events) body.push(e);
    endNs = Math.max(endNs, out.lastNs);
  }
  // Flows: keep those with both ends.
  const ends = new Map<number, number>();
  for (const e of body) if (e.ph === 's' || e.ph === 'f') ends.set(e.id!, (ends.get(e.id!) ?? 0) + 1);
  const events = body.filter((e) => {
    if ((e.ph !== 's' && e.ph !== 'f') || ends.get(e.id!) === 2) return true;
    if (e.ph === 's')
      stats.repaired.push(`flow ${e.id}: the woken CPU never came back from its wait; dropped`);
    return false;
  });
  for (const n of ends.values()) if (n === 2) stats.flows++;
  (opts.notes ?? []).forEach((line, i) => {
    events.push({
      name: clean(line).trim() || '(blank)',
      ph: 'i',
      s: 'p',
      cat: 'report',
      pid: TRACE_PID,
      ts: (endNs + i * TIEBREAK_NS) / 1000,
      args: { line: clean(line) },
    });
  });
  return {
    traceEvents: [...meta, ...events],
    displayTimeUnit: 'ns',
    otherData: {
      generator: 'mmrace --trace',
      mode: snap.mode,
      clock: snap.mode === 'controlled' ? 'virtual (controlled mode)' : 'real time (free mode)',
      ...opts.meta,
      droppedRecords: stats.dropped,
      repaired: stats.repaired.length,
    },
    stats,
  };
}

function convertCpu(
  snap: TraceSnapshot,
  cpu: number,
  evs: TraceSnapshot['cpus'][number]['events'],
  dropped: number,
  t0: number,
  lockName: (addr: number) => LockLabel,
  stats: TraceStats,
): { events: ChromeEvent[]; lastNs: number } {
  const tid = cpu + 1;
  const out: ChromeEvent[] = [];
  const fnName = (id: number): string => clean(snap.names[id] ?? `fn#${id}`);
  const frameOf = (kind: TraceKind, a: number): Frame | null => {
    if (kind === TraceKind.FnBegin || kind === TraceKind.FnEnd) return { name: fnName(a), cat: 'kernel' };
    if (kind === TraceKind.WaitBegin || kind === TraceKind.WaitEnd) return { name: 'wait', cat: 'sched' };
    if (kind === TraceKind.WakeBegin || kind === TraceKind.WakeEnd) return { name: 'wake', cat: 'sched' };
    return null;
  };
  const isBegin = (k: TraceKind) =>
    k === TraceKind.FnBegin || k === TraceKind.WaitBegin || k === TraceKind.WakeBegin;
  const isEnd = (k: TraceKind) => k === TraceKind.FnEnd || k === TraceKind.WaitEnd || k === TraceKind.WakeEnd;
  const holdOf = (addr: number, kind: number): Hold => {
    const l = lockName(addr);
    return { name: `${l.name}${lockSuffix(kind)}`, id: `${hex(addr)}@cpu${cpu}`, key: `${addr}` };
  };

  // Timestamps: integer nanoseconds, strictly increasing on this thread.
  let prevNs = -TIEBREAK_NS;
  const stamp = (ms: number): number => {
    const ns = Math.max(Math.round((ms - t0) * 1e6), prevNs + TIEBREAK_NS, 0);
    prevNs = ns;
    return ns;
  };
  const us = (ns: number): number => ns / 1000;

  // Pass 1 (only when the ring overwrote the oldest records): ends whose begins were lost.
  const lostFrames: Frame[] = [];
  const lostHolds: { addr: number; kind: number }[] = [];
  if (dropped > 0) {
    const stack: string[] = [];
    const open = new Map<number, number>();
    for (const e of evs) {
      const f = frameOf(e.kind, e.a);
      if (f && isBegin(e.kind)) stack.push(f.name);
      else if (f && isEnd(e.kind)) {
        if (stack.length === 0) lostFrames.push(f);
        else if (stack.lastIndexOf(f.name) >= 0) stack.length = stack.lastIndexOf(f.name);
      } else if (e.kind === TraceKind.LockAcquire) open.set(e.a, (open.get(e.a) ?? 0) + 1);
      else if (e.kind === TraceKind.LockRelease) {
        const n = open.get(e.a) ?? 0;
        if (n > 0) open.set(e.a, n - 1);
        else lostHolds.push({ addr: e.a, kind: e.aux });
      }
    }
  }

  const stack: Frame[] = [];
  const holds = new Map<string, Hold[]>();
  const begin = (f: Frame, ns: number, args?: ChromeEvent['args']) => {
    stack.push(f);
    out.push({
      name: f.name,
      cat: f.cat,
      ph: 'B',
      pid: TRACE_PID,
      tid,
      ts: us(ns),
      ...(args ? { args } : {}),
    });
    if (f.cat === 'kernel') stats.functions++;
    else if (f.name === 'wait') stats.waits++;
    else stats.wakes++;
  };
  const end = (f: Frame, ns: number, args?: ChromeEvent['args']) => {
    out.push({
      name: f.name,
      cat: f.cat,
      ph: 'E',
      pid: TRACE_PID,
      tid,
      ts: us(ns),
      ...(args ? { args } : {}),
    });
  };
  const acquire = (h: Hold, ns: number, args: ChromeEvent['args']) => {
    const list = holds.get(h.key) ?? [];
    list.push(h);
    holds.set(h.key, list);
    out.push({
      name: h.name,
      cat: 'lock',
      ph: 'b',
      pid: TRACE_PID,
      tid,
      ts: us(ns),
      id2: { local: h.id },
      args,
    });
    stats.locks++;
  };
  const release = (h: Hold, ns: number) => {
    out.push({ name: h.name, cat: 'lock', ph: 'e', pid: TRACE_PID, tid, ts: us(ns), id2: { local: h.id } });
  };
  const closeAll = (ms: number, why: string) => {
    while (stack.length > 0) {
      const f = stack.pop()!;
      end(f, stamp(ms));
      if (why) stats.repaired.push(`CPU${cpu}: ${f.name} closed at ${why}`);
    }
    for (const list of holds.values()) {
      while (list.length > 0) {
        const h = list.pop()!;
        release(h, stamp(ms));
        if (why) stats.repaired.push(`CPU${cpu}: ${h.name} released at ${why}`);
      }
    }
  };

  if (evs.length > 0 && (lostFrames.length > 0 || lostHolds.length > 0)) {
    const first = evs[0]!.ts;
    for (let i = lostFrames.length - 1; i >= 0; i--) {
      begin(lostFrames[i]!, stamp(first), { note: 'entered before the kept window (ring buffer)' });
      stats.repaired.push(`CPU${cpu}: ${lostFrames[i]!.name} begins before the kept window`);
    }
    for (const l of lostHolds) {
      acquire(holdOf(l.addr, l.kind), stamp(first), { note: 'taken before the kept window (ring buffer)' });
      stats.repaired.push(`CPU${cpu}: a hold of ${lockName(l.addr).name} begins before the kept window`);
    }
  }

  let ended = false;
  for (const e of evs) {
    const ns = stamp(e.ts);
    switch (e.kind) {
      case TraceKind.RunBegin:
        break;
      case TraceKind.FnBegin:
        begin(frameOf(e.kind, e.a)!, ns);
        break;
      case TraceKind.WaitBegin:
        begin(frameOf(e.kind, e.a)!, ns, { addr: hex(e.a) });
        break;
      case TraceKind.WakeBegin:
        begin(frameOf(e.kind, e.a)!, ns, { addr: hex(e.a) });
        break;
      case TraceKind.FnEnd:
      case TraceKind.WaitEnd:
      case TraceKind.WakeEnd: {
        const f = frameOf(e.kind, e.a)!;
        const at = stack.map((x) => x.name).lastIndexOf(f.name);
        if (at < 0) {
          stats.repaired.push(`CPU${cpu}: an end of ${f.name} without its begin; dropped`);
          break;
        }
        while (stack.length > at + 1) {
          const inner = stack.pop()!;
          end(inner, ns);
          stats.repaired.push(`CPU${cpu}: ${inner.name} closed with its caller ${f.name}`);
        }
        stack.pop();
        end(
          f,
          ns,
          e.kind === TraceKind.WaitEnd ? { result: WAIT_RESULT[e.aux] ?? String(e.aux) } : undefined,
        );
        break;
      }
      case TraceKind.FlowOut:
        if (stack.length === 0) break; // a flow start needs an enclosing slice
        out.push({ name: 'wakeup', cat: 'wakeup', ph: 's', pid: TRACE_PID, tid, ts: us(ns), id: e.a });
        break;
      case TraceKind.FlowIn:
        if (stack.length === 0) break;
        out.push({
          name: 'wakeup',
          cat: 'wakeup',
          ph: 'f',
          bp: 'e',
          pid: TRACE_PID,
          tid,
          ts: us(ns),
          id: e.a,
        });
        break;
      case TraceKind.LockAcquire: {
        const l = lockName(e.a);
        acquire(holdOf(e.a, e.aux), ns, {
          lock: l.name,
          instance: l.instance,
          addr: hex(e.a),
          kind: LOCK_KIND[e.aux] ?? '?',
        });
        break;
      }
      case TraceKind.LockRelease: {
        const list = holds.get(`${e.a}`);
        const h = list?.pop();
        if (h) release(h, ns);
        else
          stats.repaired.push(`CPU${cpu}: a release of ${lockName(e.a).name} it did not take here; dropped`);
        break;
      }
      case TraceKind.Mark: {
        const line = clean(snap.marks[e.a] ?? '(the log ring was full: line lost)');
        out.push({
          name: line,
          cat: 'bug',
          ph: 'i',
          s: 't',
          pid: TRACE_PID,
          tid,
          ts: us(ns),
          args: { line, seq: e.a },
        });
        stats.marks++;
        break;
      }
      case TraceKind.RunEnd: {
        const why = END_STATE[e.aux];
        if (why) out.push({ name: why, cat: 'cpu', ph: 'i', s: 't', pid: TRACE_PID, tid, ts: us(ns) });
        closeAll(e.ts, why ? `the end of the run (${why})` : 'the end of the run');
        ended = true;
        break;
      }
      default:
        stats.repaired.push(`CPU${cpu}: unknown record kind ${e.kind}; dropped`);
    }
  }
  if (!ended && evs.length > 0) closeAll(evs.at(-1)!.ts, 'the last record (no end of run)');
  return { events: out, lastNs: Math.max(prevNs, 0) };
}
