// A copy of chosen word ranges of the arena, put back with one `set()` per range, and the
// main-thread JavaScript state that mirrors those words (a module's counter kept beside them).
import { mem } from './arena.js';

/** Words [start, end) of the arena. */
export interface WordRange {
  readonly start: number;
  readonly end: number;
}

/** A module's state that mirrors the arena: taken with the snapshot, put back with it. */
export interface SnapshotMirror {
  save(): unknown;
  restore(saved: unknown): void;
}

const mirrors = new Map<string, SnapshotMirror>();

/** Registers `name`'s mirror, once per thread at module load. */
export function registerSnapshotMirror(name: string, m: SnapshotMirror): void {
  if (mirrors.has(name)) throw new Error(`snapshot mirror '${name}' registered twice`);
  mirrors.set(name, m);
}

/** Sorted, with touching or overlapping ranges merged: fewer, longer copies. */
export function mergeRanges(ranges: readonly WordRange[]): WordRange[] {
  const sorted = ranges.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  const out: WordRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end)
      out[out.length - 1] = { start: last.start, end: Math.max(last.end, r.end) };
    else out.push(r);
  }
  return out;
}

export class ArenaSnapshot {
  readonly ranges: readonly WordRange[];
  readonly words: Int32Array;
  private readonly saved: Map<string, unknown>;

  /** Copies `ranges` of the current arena and every registered mirror. */
  constructor(ranges: readonly WordRange[]) {
    this.ranges = mergeRanges(ranges);
    this.words = new Int32Array(this.ranges.reduce((n, r) => n + r.end - r.start, 0));
    let at = 0;
    for (const r of this.ranges) {
      this.words.set(mem.i32.subarray(r.start, r.end), at);
      at += r.end - r.start;
    }
    this.saved = new Map([...mirrors].map(([name, m]) => [name, m.save()]));
  }

  /**
   * Puts the words and mirrors back. Plain stores: the CPUs are between runs, and the store that
   * starts the next run orders these before their first load.
   */
  restore(): void {
    let at = 0;
    for (const r of this.ranges) {
      const n = r.end - r.start;
      mem.i32.set(this.words.subarray(at, at + n), r.start);
      at += n;
    }
    for (const [name, v] of this.saved) mirrors.get(name)!.restore(v);
  }

  /** The mirrors' state as taken (tests compare two snapshots). */
  mirrorState(): ReadonlyMap<string, unknown> {
    return this.saved;
  }
}
