// mm/kasan: checked accesses to kernel memory. Allocators register a shadow for their regions;
// a bad access prints the KASAN report (once per run, as without kasan_multi_shot) and goes on
// with the access, as the real KASAN does. A wild pointer oopses.
import { cpuCtx } from '../cpu/context.js';
import { instrumentation, setAtomicsInstrumented } from '../kernel/instrumented.js';
import { add_taint, callTrace, cpuLine, page_fault_oops, TAINT_BAD_PAGE } from '../kernel/panic.js';
import { hex8, KERN_ERR, printk } from '../kernel/printk.js';
import { task_comm, task_pid } from '../kernel/task_struct.js';
import type { Arena } from '../shm/arena.js';
import * as arena from '../shm/arena.js';
import { defineStatics } from '../shm/statics.js';
import { strAt } from '../shm/strtab.js';
import { threadConfig } from '../shm/thread_config.js';

// Hot imports as module constants: TurboFan folds a module `const` to the value it held when it
// compiled, so a call through one needs no Cell load, hole check and call-target check as an
// imported binding does (a down_read+up_read pair: about 5 ns of 40, scripts/bench-locks.mjs).
const { mem } = arena;

export interface BadAccess {
  /** KASAN's bug type: 'slab-use-after-free', 'use-after-free', 'slab-out-of-bounds'... */
  kind: string;
  /** The lines after the call trace: allocation and free tracks, the object or page. */
  details: string[];
}

export interface Shadow {
  /** null when the word may be accessed (`write`: the access is a write). */
  check(addr: number, write: boolean): BadAccess | null;
  /**
   * The region's objects as an array, for the fast path of every check (the current arena's
   * addresses). An access passes when it falls inside an object (words [objLo, objHi) of its
   * slot) whose state word reads `live`; anything else goes to check(), which decides and reports.
   */
  objects?(): ShadowObjects;
}

/** A region that is an array of equal slots, each with a state word (see Shadow.objects). */
export interface ShadowObjects {
  /** Address of slot 0. */
  base: number;
  /** Words per slot. */
  stride: number;
  /** The object's words within its slot: [objLo, objHi). */
  objLo: number;
  objHi: number;
  /** Address of slot 0's state word, and the distance between two slots' state words. */
  stateAt: number;
  stateStride: number;
  /** The state of an object that may be accessed. */
  live: number;
}

export const KASAN = defineStatics('kasan', ['reported', 'reports', 'atomics_off']);

const shadows = new Map<string, Shadow>();
let byId: (Shadow | undefined)[] = [];
/** ShadowObjects with 1/stride, slightly rounded up: floor(rel * inv) is rel / stride for rel < 2^39. */
interface FastObjects extends ShadowObjects {
  inv: number;
}
/** By region id: the fast path's slot arrays (every field a number: one hidden class). */
let fastById: (FastObjects | undefined)[] = [];
let forArena: Arena | undefined;

export function registerShadow(regionName: string, s: Shadow): void {
  shadows.set(regionName, s);
  forArena = undefined;
  kcClear();
}

/** This thread's shadow tables for the current arena (built once per arena). */
function loadShadows(): void {
  const regions = mem.arena.regions;
  byId = regions.map((r) => shadows.get(r.name));
  fastById = byId.map((s) => {
    const o = s?.objects?.();
    return o
      ? {
          base: o.base,
          stride: o.stride,
          inv: (1 + 2 ** -40) / o.stride,
          objLo: o.objLo,
          objHi: o.objHi,
          stateAt: o.stateAt,
          stateStride: o.stateStride,
          live: o.live,
        }
      : undefined;
  });
  forArena = mem.arena;
  kcClear();
}

function shadowOf(id: number): Shadow | undefined {
  if (forArena !== mem.arena) loadShadows();
  return byId[id];
}

export function kasanReset(): void {
  const b = KASAN.base();
  Atomics.store(mem.i32, b + KASAN.layout.reported, 0);
  Atomics.store(mem.i32, b + KASAN.layout.reports, 0);
}

export function kasanReports(): number {
  return Atomics.load(mem.i32, KASAN.base() + KASAN.layout.reports);
}

/** One track line for "Allocated by task" / "Freed by task". */
export function track(what: string, pid: number, cpu: number, site: number): string[] {
  if (!site) return [];
  return [`${what} by task ${pid}${cpu >= 0 ? ` on cpu ${cpu}` : ''}:`, ` ${strAt(site)}`];
}

function kasan_report(addr: number, write: boolean, bad: BadAccess): void {
  const b = KASAN.base();
  Atomics.add(mem.i32, b + KASAN.layout.reports, 1);
  if (Atomics.exchange(mem.i32, b + KASAN.layout.reported, 1) !== 0) return;
  const trace = callTrace();
  const fn = trace[0]?.trim().split(' ')[0] ?? '?';
  const t = cpuCtx.current;
  const what =
    bad.kind === 'double-free' || bad.kind === 'invalid-free'
      ? `Free of addr ${hex8(addr)} by task ${task_comm(t)}/${task_pid(t)}`
      : `${write ? 'Write' : 'Read'} of size 4 at addr ${hex8(addr)} by task ${task_comm(t)}/${task_pid(t)}`;
  printk(
    KERN_ERR,
    [
      '==================================================================',
      `BUG: KASAN: ${bad.kind} in ${fn}`,
      what,
      '',
      cpuLine(),
      'Call Trace:',
      ...trace,
      '',
      ...bad.details,
      '==================================================================',
    ].join('\n'),
  );
  add_taint(TAINT_BAD_PAGE);
}

// mm/kasan/report.c kasan_report_invalid_free(): a double free, or a free of a pointer that is not
// an object of the cache, is reported and the free is ignored.
export function kasan_report_invalid_free(
  obj: number,
  cache: string,
  kind: 'double-free' | 'invalid-free',
): void {
  const id = mem.arena.regionOf(obj);
  const bad = id >= 0 ? shadowOf(id)?.check(obj, false) : null;
  kasan_report(obj, true, {
    kind,
    details: bad?.details ?? [`The address ${hex8(obj)} is not an object of the cache ${cache}`],
  });
}

/**
 * The objects checks found live, one per arena chunk (CHUNK_SHIFT) slot: entry i of `kc` is four
 * words at i * 4, [lo, hi, state, live]: the object's words [lo, hi), its state word and the value
 * that word has while it is live. A fault touches a handful of objects in turn (the VMA, the mm,
 * three table frames, struct pages' lock words); one entry per chunk slot keeps each of them, where
 * a single "last object" was replaced at nearly every access. Only geometry is kept (where an
 * object lies and where its state word is, fixed for the arena's life); the state word itself can
 * change at any moment on another CPU and is loaded by every check. state 0 (the NULL guard word,
 * never a state word): a region without a shadow, whose accesses pass. A stale or colliding entry
 * only sends the check to checkAccessSlow(), which decides and refills the entry.
 */
const KC_SLOTS = 256;
const kc = new Int32Array(KC_SLOTS * 4);

/** Forget every entry (another arena, or another set of shadows). */
function kcClear(): void {
  kc.fill(0);
}

// The slot of `addr`'s chunk, times 4: ((addr >> CHUNK_SHIFT) & (KC_SLOTS - 1)) * 4, written out
// (CHUNK_SHIFT 8: `(addr >> 6) & 0x3fc`) in each check, which must stay small enough to inline.
if (arena.CHUNK_SHIFT !== 8 || KC_SLOTS !== 256) throw new Error('kasan.ts: the check cache index disagrees');

function checkAccess(addr: number, write: boolean): void {
  const e = (addr >> 6) & 0x3fc;
  if (addr < kc[e + 1]! && addr >= kc[e]!) {
    const st = kc[e + 2]!;
    if (st === 0 || Atomics.load(mem.i32, st) === kc[e + 3]!) return;
  }
  checkAccessSlow(addr, write);
}

function checkAccessSlow(addr: number, write: boolean): void {
  const id = mem.arena.regionOf(addr);
  if (forArena !== mem.arena) loadShadows();
  // Fast path: the word lies inside an object whose state says live. The state word goes through
  // Atomics: another CPU may free the object at any moment (that race is what KASAN catches).
  const o = fastById[id];
  if (o !== undefined) {
    const rel = addr - o.base;
    if (rel >= 0) {
      // A multiply instead of a division: this runs for every checked word.
      const slot = Math.floor(rel * o.inv);
      const off = rel - slot * o.stride;
      const state = o.stateAt + slot * o.stateStride;
      if (off >= o.objLo && off < o.objHi && Atomics.load(mem.i32, state) === o.live) {
        const at = o.base + slot * o.stride;
        const e = (addr >> 6) & 0x3fc;
        kc[e] = at + o.objLo;
        kc[e + 1] = at + o.objHi;
        kc[e + 2] = state;
        kc[e + 3] = o.live;
        return;
      }
    }
  } else if (id < 0) page_fault_oops(addr, write);
  const s = byId[id];
  if (s === undefined) {
    // No shadow: every word of the region passes. Regions start and end on chunk boundaries, so
    // the whole chunk is the region's.
    const e = (addr >> 6) & 0x3fc;
    const lo = (addr >> arena.CHUNK_SHIFT) << arena.CHUNK_SHIFT;
    kc[e] = lo;
    kc[e + 1] = lo + (1 << arena.CHUNK_SHIFT);
    kc[e + 2] = 0;
    kc[e + 3] = 0;
    return;
  }
  const bad = s.check(addr, write);
  if (bad) kasan_report(addr, write, bad);
}

/** READ_ONCE of a kernel word, KASAN-checked. */
export function kread(addr: number): number {
  checkAccess(addr, false);
  return Atomics.load(mem.i32, addr);
}

/**
 * A read of a kernel word that cannot change under the caller, KASAN-checked: a word whose
 * writers are excluded by a lock the caller holds (a VMA's vm_start/vm_end/vm_flags/vm_mm/
 * vm_page_prot/vm_pgoff under mmap_lock, held for read or write, or under the VMA's read lock in
 * the per-VMA lock eras, whose writers all take vma_start_write() first: vma_read_check.ts reports
 * one that does not), or that is fixed for the object's life (mm->pgd, vma->vm_mm). The one
 * writer of vm_start/vm_pgoff under mmap_lock held for reading is a stack growing down (up to
 * v6.4), which the kernel's fault races with through plain loads too. The check is kread()'s (a
 * freed object is still reported); the load is plain, about 8 ns cheaper than the Atomics.load:
 * no other CPU writes the word concurrently, except a buggy free, which poisons with plain stores
 * anyway. Never in a loop that waits for the word to change.
 */
export function kread_locked(addr: number): number {
  checkAccess(addr, false);
  return mem.i32[addr]!;
}

/** WRITE_ONCE of a kernel word, KASAN-checked. */
export function kwrite(addr: number, v: number): void {
  checkAccess(addr, true);
  Atomics.store(mem.i32, addr, v);
}

/** xchg of a kernel word, KASAN-checked (ptep_get_and_clear). */
export function kxchg(addr: number, v: number): number {
  checkAccess(addr, true);
  return Atomics.exchange(mem.i32, addr, v);
}

/**
 * This thread's copy of !KASAN.atomics_off (shm/thread_config.ts): refreshed when the thread
 * attaches the arena, at every run start and by kasan_instrument_atomics(), so that a check
 * costs no Atomics.load of the flag. A machine without the KASAN statics checks. The copy the
 * lock paths test is instrumented.ts's, kept equal to this one.
 */
let atomicsChecked = true;
threadConfig(() => {
  const b = KASAN.tryBase();
  atomicsChecked = b < 0 || Atomics.load(mem.i32, b + KASAN.layout.atomics_off) === 0;
  setAtomicsInstrumented(atomicsChecked);
  kcClear(); // the arena may have changed: forget the objects checked
});

// mm/kasan/shadow.c kasan_check_range() for an instrumented atomic or lock word, v6.6:
// checkAccess() written out, one call less on every lock operation with KASAN on.
function kasan_check_atomic(addr: number, write: boolean): void {
  const e = (addr >> 6) & 0x3fc;
  if (addr < kc[e + 1]! && addr >= kc[e]!) {
    const st = kc[e + 2]!;
    if (st === 0 || Atomics.load(mem.i32, st) === kc[e + 3]!) return;
  }
  checkAccessSlow(addr, write);
}

/**
 * Whether lock and atomic words are KASAN-checked (on by default; kread/kwrite are always checked).
 * Lock-cost experiments turn it off, as a kernel built for performance has no KASAN. Machine-wide:
 * the other CPUs take it up at their next run (shm/thread_config.ts); this thread at once.
 */
export function kasan_instrument_atomics(on: boolean): void {
  Atomics.store(mem.i32, KASAN.base() + KASAN.layout.atomics_off, on ? 0 : 1);
  atomicsChecked = on;
  setAtomicsInstrumented(on);
}

/** Whether this CPU checks lock and atomic words now (its copy of the switch). */
export function kasanAtomicsInstrumented(): boolean {
  return atomicsChecked;
}
instrumentation.check = kasan_check_atomic;
setAtomicsInstrumented(atomicsChecked);

/** Checks an access without doing it (an atomic op on a lock word, a memcpy). */
export function kasan_check(addr: number, write: boolean): void {
  checkAccess(addr, write);
}
