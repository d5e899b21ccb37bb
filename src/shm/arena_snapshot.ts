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

/**
 * Regions that runs fill from the front: an allocator hands out its frames or objects in index
 * order from a reset, and reuses only ones it handed out before, so a run writes only the first
 * `touched()` words of the region (the prefix handed out by then, header included). A restore
 * copies that prefix back and leaves the rest, which no run has written since the snapshot.
 */
const extents = new Map<string, () => number>();

/** Registers region `name`'s touched prefix (in words from its base), once per thread at module load. */
export function registerRestoreExtent(name: string, touched: () => number): void {
  if (extents.has(name)) throw new Error(`restore extent of '${name}' registered twice`);
  extents.set(name, touched);
}

/** MMRACE_SNAPSHOT_CHECK=1: every restore compares the whole run state with the snapshot. */
let checkRestores = process.env.MMRACE_SNAPSHOT_CHECK === '1';

/** Tests: turn the check of every restore on or off (MMRACE_SNAPSHOT_CHECK=1 sets it at load). */
export function setRestoreCheck(on: boolean): void {
  checkRestores = on;
}

/** A restore put back only part of a region and left a word the run had changed. */
export class RestoreDriftError extends Error {}

/** A piece of the snapshot: words [start, end) of the arena, at `at` in the copy. */
interface Piece {
  readonly start: number;
  readonly end: number;
  readonly at: number;
  /** A region restored by its touched prefix: the prefix as the snapshot was taken. */
  readonly touched?: () => number;
  readonly touchedAtSnapshot?: number;
}

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
  private readonly pieces: Piece[];

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
    this.pieces = splitAtExtents(this.ranges);
  }

  /**
   * Puts the words and mirrors back: the whole of every range but a filled-from-the-front region,
   * of which the prefix the run can have touched. Plain stores: the CPUs are between runs, and
   * the store that starts the next run orders these before their first load.
   */
  restore(): void {
    const i32 = mem.i32;
    // Every prefix is read before any word is put back: an allocator's count may live in another
    // region (the page allocator's in its statics), which the copy would set back first.
    const lengths = this.pieces.map((p) => {
      const n = p.end - p.start;
      if (!p.touched) return n;
      // Garbage in the allocator's words (NaN, too big) restores the whole region.
      const t = Math.max(p.touchedAtSnapshot!, p.touched());
      return t < n ? t : n;
    });
    this.pieces.forEach((p, i) => {
      i32.set(this.words.subarray(p.at, p.at + lengths[i]!), p.start);
    });
    for (const [name, v] of this.saved) mirrors.get(name)!.restore(v);
    if (checkRestores) this.check();
  }

  /** MMRACE_SNAPSHOT_CHECK: the arena now holds every word of the snapshot, or RestoreDriftError. */
  private check(): void {
    const i32 = mem.i32;
    const arena = mem.arena;
    for (const p of this.pieces) {
      for (let w = p.start; w < p.end; w++) {
        if (i32[w] === this.words[p.at + w - p.start]) continue;
        const region = arena.regions[arena.regionOf(w)]!;
        throw new RestoreDriftError(
          `snapshot restore: word ${w - region.base} of region ${region.name} holds ${i32[w]}, ` +
            `the snapshot ${this.words[p.at + w - p.start]}: a run wrote past the prefix its allocator handed out`,
        );
      }
    }
  }

  /** The mirrors' state as taken (tests compare two snapshots). */
  mirrorState(): ReadonlyMap<string, unknown> {
    return this.saved;
  }
}

/** The ranges as pieces, each registered extent region one piece of its own. */
function splitAtExtents(ranges: readonly WordRange[]): Piece[] {
  const arena = mem.arena;
  const regions = [...extents]
    .map(([name, touched]) => ({ region: arena.findRegion(name), touched }))
    .filter((x) => x.region !== undefined)
    .sort((a, b) => a.region!.base - b.region!.base);
  const pieces: Piece[] = [];
  let at = 0;
  for (const r of ranges) {
    let start = r.start;
    for (const { region, touched } of regions) {
      const b = region!.base;
      const e = b + region!.words;
      if (b < start || e > r.end) continue;
      if (b > start) pieces.push({ start, end: b, at: at + start - r.start });
      const touchedAtSnapshot = Math.max(0, touched());
      pieces.push({ start: b, end: e, at: at + b - r.start, touched, touchedAtSnapshot });
      start = e;
    }
    if (r.end > start) pieces.push({ start, end: r.end, at: at + start - r.start });
    at += r.end - r.start;
  }
  return pieces;
}
