// A race as kernel commit messages draw it: one column per CPU, time running down, each row one
// step of one CPU (a kernel function entered, an rw_semaphore taken or released, the detector's
// line), drawn from a traced controlled run, normally a shrunk failing schedule's replay. Only the
// outer `maxDepth` levels of traced functions (and the locks taken in them) are drawn; a lock
// taken and released with nothing between is one step ("down_write/up_write(anon_vma)"), and
// repeats of one step in a row are folded ("zap_pte_range x16"); the drawing stops at the first
// detector line.
import { LockKind, TraceKind, type TraceSnapshot } from '../cpu/trace_buffer.js';
import type { LockLabel } from './trace_locks.js';

export interface DiagramOptions {
  /** What each CPU plays ("oom_reaper"): the column headings. */
  cpuNames: readonly string[];
  lockName: (addr: number) => LockLabel;
  /** Traced function levels drawn below each CPU's outermost (default 4). */
  maxDepth?: number;
  /** Characters per column (default 40). */
  width?: number;
}

interface Step {
  ts: number;
  cpu: number;
  /** Order of recording on its CPU: breaks ties of the virtual clock. */
  seq: number;
  depth: number;
  text: string;
  count: number;
  detector: boolean;
}

/** The lock API functions: their LockAcquire record says more (which lock, which mode). */
const LOCK_API = /^(down|up)_(read|write)(_killable|_trylock)?$|^(spin_|raw_spin_)(un)?lock/;

const TAKE: Record<number, string> = { [LockKind.Read]: 'down_read', [LockKind.Write]: 'down_write' };
const DROP: Record<number, string> = { [LockKind.Read]: 'up_read', [LockKind.Write]: 'up_write' };

function stepsOf(snap: TraceSnapshot, o: DiagramOptions): Step[] {
  const max = o.maxDepth ?? 4;
  const out: Step[] = [];
  for (const c of snap.cpus) {
    const stack: string[] = [];
    let seq = 0;
    const add = (ts: number, depth: number, text: string, detector = false) =>
      out.push({ ts, cpu: c.cpu, seq: seq++, depth, text, count: 1, detector });
    for (const e of c.events) {
      if (e.kind === TraceKind.FnBegin) {
        const name = snap.names[e.a] ?? `fn#${e.a}`;
        if (stack.length < max && !LOCK_API.test(name)) add(e.ts, stack.length, name);
        stack.push(name);
      } else if (e.kind === TraceKind.FnEnd) stack.pop();
      else if (
        (e.kind === TraceKind.LockAcquire || e.kind === TraceKind.LockRelease) &&
        e.aux !== LockKind.Spin
      ) {
        // Spinlocks are left out: page-table locks come and go per PTE page and would drown the race.
        const api = (e.kind === TraceKind.LockAcquire ? TAKE : DROP)[e.aux] ?? 'lock';
        const depth = stack.filter((f) => !LOCK_API.test(f)).length;
        if (depth <= max) add(e.ts, depth, `${api}(${lockArg(o.lockName(e.a).name)})`);
      } else if (e.kind === TraceKind.Mark) {
        add(e.ts, Math.min(stack.length, max), snap.marks[e.a] ?? 'a detector report', true);
      }
    }
  }
  out.sort((a, b) => a.ts - b.ts || (a.cpu === b.cpu ? a.seq - b.seq : 0));
  return out;
}

/**
 * How kernel code names a lock: '&mm->mmap_sem' for mm_struct.mmap_sem; a struct that is one lock
 * (its word 0) by the lock inside it: '&anon_vma->rwsem', v6.4's '&vma->vm_lock->lock'.
 */
const VAR: Record<string, [string, string]> = {
  mm_struct: ['mm', '?'],
  vm_area_struct: ['vma', '?'],
  anon_vma: ['anon_vma', 'rwsem'],
  vma_lock: ['vma->vm_lock', 'lock'],
};
export function lockArg(name: string): string {
  const m = /^([a-z_]+)(?:\.(\w[\w.]*)|\+0)?$/.exec(name);
  const v = m ? VAR[m[1]!] : undefined;
  if (!m || !v) return name;
  return `&${v[0]}->${m[2] ?? v[1]}`;
}

const PAIR = /^(down|up)_(read|write)\((.*)\)$/;

/** "down_write(x)" then "up_write(x)": "down_write/up_write(x)"; null for anything else. */
function pair(take: string, drop: string): string | null {
  const a = PAIR.exec(take);
  const b = PAIR.exec(drop);
  if (!a || !b || a[1] !== 'down' || b[1] !== 'up' || a[2] !== b[2] || a[3] !== b[3]) return null;
  return `down_${a[2]}/up_${a[2]}(${a[3]})`;
}

/** Folds lock pairs and repeats of one step in a row on one CPU; stops after the first detector line. */
function fold(steps: readonly Step[]): Step[] {
  const out: Step[] = [];
  for (const s of steps) {
    const last = out.at(-1);
    const both =
      last && last.cpu === s.cpu && last.count === 1 && last.depth === s.depth
        ? pair(last.text, s.text)
        : null;
    if (both) {
      out.pop();
      const before = out.at(-1);
      if (before && before.cpu === s.cpu && before.text === both && before.depth === s.depth) before.count++;
      else out.push({ ...s, text: both });
      continue;
    }
    if (last && last.cpu === s.cpu && last.text === s.text && last.depth === s.depth && !s.detector)
      last.count++;
    else out.push({ ...s });
    if (s.detector) break;
  }
  return out;
}

export function raceDiagram(snap: TraceSnapshot, o: DiagramOptions): string[] {
  const width = o.width ?? 40;
  const ncpus = snap.cpus.length;
  const cell = (text: string) => (text.length > width - 1 ? `${text.slice(0, width - 2)}~` : text);
  const row = (cpu: number, text: string, last: boolean) => {
    const lead = ' '.repeat(cpu * width);
    return last || cpu === ncpus - 1 ? `${lead}${text}` : `${lead}${cell(text)}`.trimEnd();
  };
  const head = Array.from({ length: ncpus }, (_, i) =>
    cell(`CPU${i} (${o.cpuNames[i] ?? '?'})`).padEnd(width),
  );
  const rule = Array.from({ length: ncpus }, () => `${'-'.repeat(width - 2)}  `);
  const lines = [head.join('').trimEnd(), rule.join('').trimEnd()];
  for (const s of fold(stepsOf(snap, o))) {
    const text = `${'  '.repeat(s.depth)}${s.text}${s.count > 1 ? ` x${s.count}` : ''}`;
    lines.push(row(s.cpu, text, s.detector));
  }
  return lines;
}
