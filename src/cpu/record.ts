// Free-mode recording: the global order in which the CPUs passed their points (and, marked, where
// they came back from a sleep or started to spin), so that a failing free run can be replayed in
// controlled mode (strategies/follow.ts).
//
// Cost on the CPU side (FreeRunner): one Atomics.add on the shared CLOCK word, which hands out
// the global stamps, and one plain store into the CPU's own buffer. The buffer is written by its
// CPU only and read by the main thread after the run's DONE handshake (an Atomics.add that
// orders it), so the store needs no Atomics. A full buffer keeps counting and marks the CPU's
// record truncated. Entry = stamp << 2 | kind; stamps restart at 0 every run.
//
// Lives in its own arena region (machineRegions() includes it), not in the control block.
import { type Arena, mem } from '../shm/arena.js';
import { MAX_CPUS } from './control.js';

/** Entries per CPU buffer. A 2017-scenario run passes a few hundred points per CPU. */
export const RECORD_CAP = 1 << 20;
const HEADER_WORDS = 64;
const H = {
  ENABLE: 0, // 1: FreeRunners record this campaign's runs (read at each run's start)
  CLOCK: 1, // the global stamp counter (Atomics.add), reset before every run
  COUNT: 16, // (MAX_CPUS words) events each CPU stamped in the last run, written at its end
} as const;

export const RECORD_REGION = { name: 'record', words: HEADER_WORDS + MAX_CPUS * RECORD_CAP };

/** What a CPU did at a recorded event. */
export enum EventKind {
  /** Reached a preemption point (stamped before the point's jitter). */
  Point = 0,
  /** Entered a wait() that sleeps (the word still holds the expected value). */
  Wait = 1,
  /** Started a spin loop (its first relax()). */
  Spin = 2,
}

export interface RecordedEvent {
  cpu: number;
  stamp: number;
  kind: EventKind;
}

export interface Recording {
  /** Every recorded event of the run, in stamp order (the global order). */
  events: RecordedEvent[];
  /** A CPU's buffer overflowed: `events` stops at the last stamp every CPU still recorded. */
  truncated: boolean;
  /** Events stamped in the run, including those a full buffer dropped. */
  stamped: number;
}

/** The record region's base in `arena`, or -1 when this machine has none. */
export function recordBase(arena: Arena): number {
  return arena.regions.find((r) => r.name === RECORD_REGION.name)?.base ?? -1;
}

export const recordWord = {
  enable: (base: number) => base + H.ENABLE,
  clock: (base: number) => base + H.CLOCK,
  count: (base: number, cpu: number) => base + H.COUNT + cpu,
  buffer: (base: number, cpu: number) => base + HEADER_WORDS + cpu * RECORD_CAP,
};

function baseOrThrow(): number {
  const b = recordBase(mem.arena);
  if (b < 0) throw new Error(`this machine has no '${RECORD_REGION.name}' region`);
  return b;
}

/** Main thread, before a campaign: whether its free runs record. */
export function recordEnable(on: boolean): void {
  const b = recordBase(mem.arena);
  if (b < 0) {
    if (on) baseOrThrow();
    return;
  }
  Atomics.store(mem.i32, recordWord.enable(b), on ? 1 : 0);
}

/** Main thread, before each run: stamps restart at 0. */
export function recordReset(ncpus: number): void {
  const b = baseOrThrow();
  Atomics.store(mem.i32, recordWord.clock(b), 0);
  for (let c = 0; c < ncpus; c++) Atomics.store(mem.i32, recordWord.count(b, c), 0);
}

/** One CPU's buffer as raw entries (stamp << 2 | kind). */
export function encodeEvent(stamp: number, kind: EventKind): number {
  return (stamp << 2) | kind;
}

/**
 * Merge per-CPU buffers of stamped entries into the global order. `counts[c]` is how many events
 * CPU c stamped; beyond `cap` its entries were dropped, so the merged order is cut after the last
 * stamp that every truncated CPU still recorded (later events would miss that CPU's part).
 */
export function mergeStamped(buffers: readonly ArrayLike<number>[], counts: readonly number[], cap: number) {
  const events: RecordedEvent[] = [];
  let cut = Infinity;
  let stamped = 0;
  buffers.forEach((buf, cpu) => {
    const n = counts[cpu] ?? 0;
    stamped += n;
    const kept = Math.min(n, cap, buf.length);
    for (let i = 0; i < kept; i++) {
      const e = buf[i]!;
      events.push({ cpu, stamp: e >>> 2, kind: (e & 3) as EventKind });
    }
    if (n > kept) cut = Math.min(cut, kept > 0 ? buf[kept - 1]! >>> 2 : -1);
  });
  events.sort((a, b) => a.stamp - b.stamp);
  const truncated = cut !== Infinity;
  return {
    events: truncated ? events.filter((e) => e.stamp <= cut) : events,
    truncated,
    stamped,
  } satisfies Recording;
}

/** Stamps share a word with the kind: a run past 2^29 events cannot be recorded. */
const MAX_STAMP = (1 << 29) - 1;

/** Main thread, after a run (its DONE handshake): the run's recording. */
export function recordCollect(ncpus: number): Recording {
  const b = baseOrThrow();
  const i32 = mem.i32;
  const clock = Atomics.load(i32, recordWord.clock(b)) >>> 0;
  if (clock > MAX_STAMP) return { events: [], truncated: true, stamped: clock };
  const buffers: Int32Array[] = [];
  const counts: number[] = [];
  for (let c = 0; c < ncpus; c++) {
    const n = Atomics.load(i32, recordWord.count(b, c));
    counts.push(n);
    const at = recordWord.buffer(b, c);
    buffers.push(i32.subarray(at, at + Math.min(n, RECORD_CAP)));
  }
  return mergeStamped(buffers, counts, RECORD_CAP);
}

/** The CPU side, used by the FreeRunner: one CPU's writer into its buffer. */
export class RecordWriter {
  private n = 0;
  on = false;
  private readonly clock: number;
  private readonly buf: number;
  private readonly countAt: number;
  private readonly enableAt: number;

  constructor(base: number, cpu: number) {
    this.enableAt = recordWord.enable(base);
    this.clock = recordWord.clock(base);
    this.buf = recordWord.buffer(base, cpu);
    this.countAt = recordWord.count(base, cpu);
  }

  /** At the start of a run: record it when the main thread enabled recording. */
  begin(): void {
    this.n = 0;
    this.on = Atomics.load(mem.i32, this.enableAt) !== 0;
  }

  stamp(kind: EventKind): void {
    const i32 = mem.i32;
    const s = Atomics.add(i32, this.clock, 1);
    const n = this.n++;
    if (n < RECORD_CAP) i32[this.buf + n] = (s << 2) | kind;
  }

  /** At the end of a run: publish how many events this CPU stamped. */
  end(): void {
    if (this.on) Atomics.store(mem.i32, this.countAt, this.n);
  }
}
