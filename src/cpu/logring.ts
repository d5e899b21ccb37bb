// The log ring printk writes to. A writer reserves space with one atomic add and publishes its
// record by storing the length last; readers (after a run) walk records in reservation order.
import { mem } from '../shm/arena.js';

export const LOG_REGION = { name: 'log', words: 256 * 1024 };

const L_CURSOR = 0;
const L_DROPPED = 1;
const L_SEQ = 2;
const L_DATA = 8;

const R_LEN = 0; // chars, -1 while being written
const R_SEQ = 1;
const R_CPU = 2;
const R_PID = 3;
const R_LEVEL = 4;
const R_USEC = 5; // microseconds mod 2^32
const R_USEC_HI = 6; // and the carry: emulated runs at a high time scale pass 4295 s
const R_HDR = 7;

export interface LogRecord {
  seq: number;
  cpu: number;
  pid: number;
  level: number;
  usec: number;
  text: string;
}

function base(): number {
  return mem.arena.region(LOG_REGION.name).base;
}

export function logReset(): void {
  const b = base();
  Atomics.store(mem.i32, b + L_CURSOR, 0);
  Atomics.store(mem.i32, b + L_DROPPED, 0);
}

/** The header and the records written so far: what a snapshot of the log must copy. */
export function logUsedWords(): { start: number; end: number } {
  const b = base();
  const cap = mem.arena.region(LOG_REGION.name).words - L_DATA;
  return { start: b, end: b + L_DATA + Math.min(Atomics.load(mem.i32, b + L_CURSOR), cap) };
}

/** Appends one record; returns its sequence number, or -1 when the ring was full (dropped). */
export function logWrite(level: number, cpu: number, pid: number, usec: number, text: string): number {
  const b = base();
  const cap = mem.arena.region(LOG_REGION.name).words - L_DATA;
  const words = R_HDR + ((text.length + 1) >> 1);
  const off = Atomics.add(mem.i32, b + L_CURSOR, words);
  if (off + words > cap) {
    Atomics.add(mem.i32, b + L_DROPPED, 1);
    return -1;
  }
  const r = b + L_DATA + off;
  const i32 = mem.i32;
  Atomics.store(i32, r + R_LEN, -1);
  const seq = Atomics.add(i32, b + L_SEQ, 1);
  i32[r + R_SEQ] = seq;
  i32[r + R_CPU] = cpu;
  i32[r + R_PID] = pid;
  i32[r + R_LEVEL] = level;
  i32[r + R_USEC] = usec | 0;
  i32[r + R_USEC_HI] = Math.floor(usec / 2 ** 32);
  const u16 = mem.u16;
  const cb = (r + R_HDR) * 2;
  for (let i = 0; i < text.length; i++) u16[cb + i] = text.charCodeAt(i);
  // An odd length leaves half a word: zero it, so a record's words depend on the record only.
  if (text.length & 1) u16[cb + text.length] = 0;
  Atomics.store(i32, r + R_LEN, text.length);
  return seq;
}

/** Every published record, in reservation order. */
export function logRead(): { records: LogRecord[]; dropped: number } {
  const b = base();
  const i32 = mem.i32;
  const cap = mem.arena.region(LOG_REGION.name).words - L_DATA;
  const end = Math.min(Atomics.load(i32, b + L_CURSOR), cap);
  const records: LogRecord[] = [];
  let off = 0;
  while (off < end) {
    const r = b + L_DATA + off;
    const len = Atomics.load(i32, r + R_LEN);
    if (len < 0) break;
    const cb = (r + R_HDR) * 2;
    records.push({
      seq: i32[r + R_SEQ]!,
      cpu: i32[r + R_CPU]!,
      pid: i32[r + R_PID]!,
      level: i32[r + R_LEVEL]!,
      usec: i32[r + R_USEC_HI]! * 2 ** 32 + (i32[r + R_USEC]! >>> 0),
      text: String.fromCharCode(...mem.u16.subarray(cb, cb + len)),
    });
    off += R_HDR + ((len + 1) >> 1);
  }
  return { records, dropped: Atomics.load(i32, b + L_DROPPED) };
}
