// The class dependency graph (kernel/locking/lockdep.c lock_list entries, locks_after lists): an
// adjacency bitmap over the classes for the "already there?" test and the BFS, and one entry per
// edge with the stack trace that first created it, for the report. Written only under
// lockdep_lock; the bitmap is read lock-free.
import { mem } from '../../shm/arena.js';
import { defineStatics } from '../../shm/statics.js';
import { MAX_LOCKDEP_KEYS } from './lockdep_classes.js';
import { MAX_TRACE, traceLine } from './lockdep_ip.js';

export const MAX_LOCKDEP_ENTRIES = 2048;
const ROW_WORDS = MAX_LOCKDEP_KEYS >> 5;
const ENTRY_WORDS = 3 + MAX_TRACE;
const E_FROM = 0;
const E_TO = 1;
const E_NR_TRACE = 2;
const E_TRACE = 3;

const GRAPH = defineStatics('lockdep_graph', [
  'nr_list_entries',
  `locks_after[${MAX_LOCKDEP_KEYS * ROW_WORDS}]`,
  `list_entries[${MAX_LOCKDEP_ENTRIES * ENTRY_WORDS}]`,
]);

const row = (from: number): number => GRAPH.base() + GRAPH.layout.locks_after + from * ROW_WORDS;
const entry = (n: number): number => GRAPH.base() + GRAPH.layout.list_entries + n * ENTRY_WORDS;

/** Is `from -> to` already in the graph? */
export function hasDependency(from: number, to: number): boolean {
  return (Atomics.load(mem.i32, row(from) + (to >> 5)) & (1 << (to & 31))) !== 0;
}

// kernel/locking/lockdep.c add_lock_to_list(), v6.6 (caller holds lockdep_lock); false when
// MAX_LOCKDEP_ENTRIES is exhausted.
export function add_lock_to_list(from: number, to: number, trace: readonly number[]): boolean {
  const i32 = mem.i32;
  const nrAt = GRAPH.base() + GRAPH.layout.nr_list_entries;
  const n = Atomics.load(i32, nrAt);
  if (n >= MAX_LOCKDEP_ENTRIES) return false;
  const e = entry(n);
  Atomics.store(i32, e + E_FROM, from);
  Atomics.store(i32, e + E_TO, to);
  const nt = Math.min(trace.length, MAX_TRACE);
  Atomics.store(i32, e + E_NR_TRACE, nt);
  for (let i = 0; i < nt; i++) Atomics.store(i32, e + E_TRACE + i, trace[i]!);
  Atomics.store(i32, nrAt, n + 1);
  Atomics.or(i32, row(from) + (to >> 5), 1 << (to & 31));
  return true;
}

// kernel/locking/lockdep.c __bfs_forwards() + check_noncircular(), v6.6: the shortest path of
// classes from `src` to `target` (both included), or null when `target` cannot be reached.
export function bfsPath(src: number, target: number): number[] | null {
  const i32 = mem.i32;
  const parent = new Int16Array(MAX_LOCKDEP_KEYS).fill(-1);
  const queue = [src];
  parent[src] = src;
  for (let q = 0; q < queue.length; q++) {
    const c = queue[q]!;
    if (c === target) {
      const path = [c];
      for (let p = c; p !== src; ) {
        p = parent[p]!;
        path.unshift(p);
      }
      return path;
    }
    const r = row(c);
    for (let w = 0; w < ROW_WORDS; w++) {
      let bits = Atomics.load(i32, r + w);
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        const next = (w << 5) | b;
        if (parent[next] !== -1) continue;
        parent[next] = c;
        queue.push(next);
      }
    }
  }
  return null;
}

/** The stack trace saved when `from -> to` was first seen, one frame per line. */
export function dependencyTrace(from: number, to: number): string[] {
  const i32 = mem.i32;
  const n = Atomics.load(i32, GRAPH.base() + GRAPH.layout.nr_list_entries);
  for (let k = 0; k < n; k++) {
    const e = entry(k);
    if (Atomics.load(i32, e + E_FROM) !== from || Atomics.load(i32, e + E_TO) !== to) continue;
    const nt = Atomics.load(i32, e + E_NR_TRACE);
    const out: string[] = [];
    for (let i = 0; i < nt; i++) out.push(traceLine(Atomics.load(i32, e + E_TRACE + i)));
    return out;
  }
  return [];
}

export function lockdepGraphReset(): void {
  const b = GRAPH.base();
  mem.i32.fill(0, b, b + GRAPH.layout.SIZE);
}
