// CONFIG_LOCK_STAT (kernel/locking/lockdep.c, struct lock_class_stats): per class, wait and
// hold times for the read and write sides, bounces and the 4 contention/contending points. The
// kernel keeps them per CPU and sums on read; here every CPU adds into one shared record with
// Atomics. Times are counted in 10 ns units (int32 min/max, int64 totals) and shown as ns.
import { cpuCtx } from '../../cpu/context.js';
import { type Arena, mem } from '../../shm/arena.js';
import { defineStatics } from '../../shm/statics.js';
import { className, I_CPU, I_IP, instanceSlot, MAX_LOCKDEP_KEYS, nrLockClasses } from './lockdep_classes.js';
import {
  HL_ACQUIRE_IP,
  HL_HOLDTIME_STAMP,
  HL_WAITTIME_STAMP,
  hlock_class,
  hlockGet,
  hlockRead,
  hlockSet,
} from './lockdep_held.js';
import { ipName } from './lockdep_ip.js';
import { lockstat_clock, lockstatSince } from './lockdep_state.js';

export const LOCKSTAT_POINTS = 4;

// struct lock_class_stats, one record per class; the int64 totals come first (8-byte aligned).
const LS_WORDS = 40;
const LS_TOTAL = 0; // 4 x int64: read/write wait, read/write hold
const LS_TIME = 8; // 4 x {nr, min + 1 (0 = no sample), max}
const LS_BOUNCES = 20; // enum bounce_type
const LS_CONTENTION_IP = 24;
const LS_CONTENTION_NR = 28;
const LS_CONTENDING_IP = 32;
const LS_CONTENDING_NR = 36;

// which struct lock_time
const READ_WAITTIME = 0;
const WRITE_WAITTIME = 1;
const READ_HOLDTIME = 2;
const WRITE_HOLDTIME = 3;

// include/linux/lockdep_types.h enum bounce_type
const bounce_acquired_write = 0;
const bounce_acquired_read = 1;
const bounce_contended_write = 2;
const bounce_contended_read = 3;

const STATS = defineStatics('lock_stat', [`stats[${MAX_LOCKDEP_KEYS * LS_WORDS}]`]);

let big: BigInt64Array = new BigInt64Array(0);
let bigFor: Arena | undefined;
function i64(): BigInt64Array {
  if (bigFor !== mem.arena) {
    big = new BigInt64Array(mem.arena.sab, 0, mem.arena.words >> 1);
    bigFor = mem.arena;
  }
  return big;
}

const rec = (idx: number): number => STATS.base() + STATS.layout.stats + idx * LS_WORDS;

// kernel/locking/lockdep.c lock_time_inc(), v6.6 (`time` in 10 ns units)
function lock_time_inc(r: number, which: number, time: number): void {
  const i32 = mem.i32;
  const t = Math.min(time, 0x7ffffffe);
  const at = r + LS_TIME + which * 3;
  for (let max = Atomics.load(i32, at + 2); t > max; ) {
    const seen = Atomics.compareExchange(i32, at + 2, max, t);
    if (seen === max) break;
    max = seen;
  }
  for (let min1 = Atomics.load(i32, at + 1); min1 === 0 || t + 1 < min1; ) {
    const seen = Atomics.compareExchange(i32, at + 1, min1, t + 1);
    if (seen === min1) break;
    min1 = seen;
  }
  Atomics.add(i64(), (r + LS_TOTAL + which * 2) >> 1, BigInt(time));
  Atomics.add(i32, at, 1);
}

// kernel/locking/lockdep.c lock_point(), v6.6: the slot of `ip` among a class's 4 points
function lock_point(points: number, ip: number): number {
  const i32 = mem.i32;
  for (let i = 0; i < LOCKSTAT_POINTS; i++) {
    const seen = Atomics.compareExchange(i32, points + i, 0, ip);
    if (seen === 0 || seen === ip) return i;
  }
  return LOCKSTAT_POINTS;
}

// kernel/locking/lockdep.c __lock_contended(), v6.6, from the entry `h` of the waiting task
export function __lock_contended(h: number, lock: number, ip: number): void {
  const i32 = mem.i32;
  hlockSet(h, HL_WAITTIME_STAMP, lockstat_clock() || 1);
  if (!hlockGet(h, HL_ACQUIRE_IP)) hlockSet(h, HL_ACQUIRE_IP, ip);
  const r = rec(hlock_class(h));
  const slot = instanceSlot(lock);
  if (ip) {
    const p = lock_point(r + LS_CONTENTION_IP, ip);
    if (p < LOCKSTAT_POINTS) Atomics.add(i32, r + LS_CONTENTION_NR + p, 1);
  }
  const holder_ip = slot ? Atomics.load(i32, slot + I_IP) : 0;
  if (holder_ip) {
    const p = lock_point(r + LS_CONTENDING_IP, holder_ip);
    if (p < LOCKSTAT_POINTS) Atomics.add(i32, r + LS_CONTENDING_NR + p, 1);
  }
  if (slot && Atomics.load(i32, slot + I_CPU) !== cpuCtx.cpu)
    Atomics.add(i32, r + LS_BOUNCES + (hlockRead(h) ? bounce_contended_read : bounce_contended_write), 1);
}

// kernel/locking/lockdep.c __lock_acquired(), v6.6
export function __lock_acquired(h: number, lock: number): void {
  const i32 = mem.i32;
  const read = hlockRead(h);
  const r = rec(hlock_class(h));
  const wait = hlockGet(h, HL_WAITTIME_STAMP);
  if (wait) {
    const now = lockstat_clock();
    hlockSet(h, HL_HOLDTIME_STAMP, now);
    const waittime = (now - wait) >>> 0;
    if (waittime) lock_time_inc(r, read ? READ_WAITTIME : WRITE_WAITTIME, waittime);
  }
  const slot = instanceSlot(lock);
  if (!slot) return;
  const cpu = cpuCtx.cpu;
  if (Atomics.load(i32, slot + I_CPU) !== cpu)
    Atomics.add(i32, r + LS_BOUNCES + (read ? bounce_acquired_read : bounce_acquired_write), 1);
  Atomics.store(i32, slot + I_CPU, cpu);
  Atomics.store(i32, slot + I_IP, hlockGet(h, HL_ACQUIRE_IP));
}

// kernel/locking/lockdep.c lock_release_holdtime(), v6.6
export function lock_release_holdtime(h: number): void {
  const holdtime = lockstatSince(hlockGet(h, HL_HOLDTIME_STAMP));
  lock_time_inc(rec(hlock_class(h)), hlockRead(h) ? READ_HOLDTIME : WRITE_HOLDTIME, holdtime);
}

/** struct lock_time, in ns. */
export interface LockTime {
  nr: number;
  min: number;
  max: number;
  total: number;
}

export interface LockPoint {
  ip: string;
  count: number;
}

/** struct lock_class_stats of one class, summed over the CPUs. */
export interface LockClassStats {
  name: string;
  read_waittime: LockTime;
  write_waittime: LockTime;
  read_holdtime: LockTime;
  write_holdtime: LockTime;
  bounces: { acquired_write: number; acquired_read: number; contended_write: number; contended_read: number };
  contention_point: LockPoint[];
  contending_point: LockPoint[];
}

function lockTime(r: number, which: number): LockTime {
  const at = r + LS_TIME + which * 3;
  const i32 = mem.i32;
  const min1 = Atomics.load(i32, at + 1);
  return {
    nr: Atomics.load(i32, at),
    min: min1 ? (min1 - 1) * 10 : 0,
    max: Atomics.load(i32, at + 2) * 10,
    total: Number(Atomics.load(i64(), (r + LS_TOTAL + which * 2) >> 1)) * 10,
  };
}

function readPoints(r: number, ips: number, nrs: number): LockPoint[] {
  const out: LockPoint[] = [];
  for (let i = 0; i < LOCKSTAT_POINTS; i++) {
    const ip = Atomics.load(mem.i32, r + ips + i);
    if (!ip) break;
    out.push({ ip: ipName(ip), count: Atomics.load(mem.i32, r + nrs + i) });
  }
  return out;
}

// kernel/locking/lockdep.c lock_stats(), v6.6
export function lock_stats(idx: number): LockClassStats {
  const r = rec(idx);
  const b = (k: number): number => Atomics.load(mem.i32, r + LS_BOUNCES + k);
  return {
    name: className(idx),
    read_waittime: lockTime(r, READ_WAITTIME),
    write_waittime: lockTime(r, WRITE_WAITTIME),
    read_holdtime: lockTime(r, READ_HOLDTIME),
    write_holdtime: lockTime(r, WRITE_HOLDTIME),
    bounces: {
      acquired_write: b(bounce_acquired_write),
      acquired_read: b(bounce_acquired_read),
      contended_write: b(bounce_contended_write),
      contended_read: b(bounce_contended_read),
    },
    contention_point: readPoints(r, LS_CONTENTION_IP, LS_CONTENTION_NR),
    contending_point: readPoints(r, LS_CONTENDING_IP, LS_CONTENDING_NR),
  };
}

/** Every registered class's statistics, in class order. */
export function lockStatClasses(): LockClassStats[] {
  const out: LockClassStats[] = [];
  for (let idx = 1; idx <= nrLockClasses(); idx++) out.push(lock_stats(idx));
  return out;
}

// kernel/locking/lockdep.c clear_lock_stats(), v6.6
export function clear_lock_stats(idx: number): void {
  const r = rec(idx);
  for (let k = r; k < r + LS_WORDS; k++) Atomics.store(mem.i32, k, 0);
}

/** `echo 0 > /proc/lock_stat`: clear every class's statistics. */
export function lockStatClear(): void {
  for (let idx = 0; idx < MAX_LOCKDEP_KEYS; idx++) clear_lock_stats(idx);
}
