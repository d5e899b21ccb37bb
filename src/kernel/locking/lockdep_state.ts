// The switches and global state of lockdep and lock_stat (kernel/locking/lockdep.c globals):
// CONFIG_PROVE_LOCKING and CONFIG_LOCK_STAT become one shared config word so that a machine can
// turn them on and off between runs; both are off by default, and then every lock operation pays
// for one test of this thread's copy of that word.
import { cpuCtx } from '../../cpu/context.js';
import { MAX_CPUS } from '../../cpu/control.js';
import { mem } from '../../shm/arena.js';
import { defineStatics } from '../../shm/statics.js';
import { threadConfig } from '../../shm/thread_config.js';
import { PANIC } from '../panic.js';
import { KERN_DEBUG, printk } from '../printk.js';

/** Words per CPU of the capture counts: one cache line each, so that CPUs counting never share one. */
const CAPTURE_STRIDE = 16;

export const LOCKDEP_STATE = defineStatics('lockdep', [
  'config',
  'debug_locks_off',
  'lockdep_lock',
  'site_mismatches',
  'lazy_sites',
  `captures[${(MAX_CPUS + 1) * CAPTURE_STRIDE}]`,
]);
const CONFIG = 0; // must stay the first field: lockDebugFlags() reads base() + 0

/** config bits */
export const PROVE_LOCKING = 1 << 0;
export const LOCK_STAT = 1 << 1;
/** Self-check of lockdep_ip.ts's site tables: every site and trace they answer is also symbolized and compared. */
export const SITE_CHECK = 1 << 2;

/**
 * This thread's copy of the config word (shm/thread_config.ts): refreshed when the thread attaches
 * the arena, at every run start and by the switches below, so that a lock operation reads a plain
 * variable instead of loading the shared word. A machine without the lockdep statics has both off.
 */
let config = 0;
/** This thread's copy of lazy_sites, for a CPU of a controlled run only (see lockdepLazySites()). */
let lazy = false;
threadConfig(() => {
  const b = LOCKDEP_STATE.tryBase();
  config = b < 0 ? 0 : Atomics.load(mem.i32, b + CONFIG);
  lazy =
    b >= 0 &&
    Atomics.load(mem.i32, b + LOCKDEP_STATE.layout.lazy_sites) !== 0 &&
    cpuCtx.runner.mode === 'controlled';
});

/** What every lock operation tests: non-zero when lockdep or lock_stat is on. */
export function lockDebugFlags(): number {
  return config;
}

/** Machine-wide: the other CPUs take it up at their next run (shm/thread_config.ts), this thread at once. */
function setFlag(bit: number, on: boolean): void {
  const at = LOCKDEP_STATE.base() + CONFIG;
  config = on ? Atomics.or(mem.i32, at, bit) | bit : Atomics.and(mem.i32, at, ~bit) & ~bit;
}

// kernel/locking/lockdep.c prove_locking (module parameter), v6.6: turn lockdep's validation
// (CONFIG_PROVE_LOCKING) on or off for the whole machine.
export function lockdep_enable(on = true): void {
  setFlag(PROVE_LOCKING, on);
}

// kernel/locking/lockdep.c lock_stat (sysctl kernel.lock_stat), v6.6: `echo 1 >
// /proc/sys/kernel/lock_stat` turns lock statistics on, `echo 0` off.
export function lock_stat_enable(on = true): void {
  setFlag(LOCK_STAT, on);
}

/**
 * Tests: lockdep_ip.ts symbolizes every acquisition site and lock trace from the formatted stack
 * too (as lockdep did before its site tables) and counts those its tables answered differently.
 */
export function lockdep_site_check(on = true): void {
  setFlag(SITE_CHECK, on);
  Atomics.store(mem.i32, LOCKDEP_STATE.base() + LOCKDEP_STATE.layout.site_mismatches, 0);
}

export function lockdepSiteCheck(): boolean {
  return (config & SITE_CHECK) !== 0;
}

/** Sites and traces the tables answered differently from the formatted stack since lockdep_site_check(). */
export function lockdepSiteMismatches(): number {
  return Atomics.load(mem.i32, LOCKDEP_STATE.base() + LOCKDEP_STATE.layout.site_mismatches);
}

export function noteSiteMismatch(): void {
  Atomics.add(mem.i32, LOCKDEP_STATE.base() + LOCKDEP_STATE.layout.site_mismatches, 1);
}

/**
 * Machine-wide, for the campaigns that can replay a run (scenarios/report_replay.ts): from their
 * next run, the CPUs of controlled runs record no acquisition site and no dependency trace (each a
 * stack capture), and a report prints them as unresolved (lockdep_ip.ts LAZY_IP) until the run is
 * replayed without this.
 */
export function lockdepLazySites(on: boolean): void {
  Atomics.store(mem.i32, LOCKDEP_STATE.base() + LOCKDEP_STATE.layout.lazy_sites, on ? 1 : 0);
}

/**
 * Does this thread leave sites to a replay? Only a CPU of a controlled run (deterministic, so
 * replayable) does, and neither lock_stat (whose contention points outlive the run) nor the
 * site self-check has a use for that.
 */
export function lazySites(): boolean {
  return lazy && (config & (LOCK_STAT | SITE_CHECK)) === 0;
}

/** This CPU's capture counts (the boot CPU's first): sites, then traces. */
function capturesOf(cpu: number): number {
  return LOCKDEP_STATE.base() + LOCKDEP_STATE.layout.captures + (cpu + 1) * CAPTURE_STRIDE;
}

/** Stack captures for acquisition sites and for dependency traces, summed over the CPUs (tests, benchmarks). */
export function lockdepCaptures(): { sites: number; traces: number } {
  let sites = 0;
  let traces = 0;
  for (let cpu = -1; cpu < MAX_CPUS; cpu++) {
    sites += Atomics.load(mem.i32, capturesOf(cpu));
    traces += Atomics.load(mem.i32, capturesOf(cpu) + 1);
  }
  return { sites, traces };
}

export function noteSiteCapture(): void {
  Atomics.add(mem.i32, capturesOf(cpuCtx.cpu), 1);
}

export function noteTraceCapture(): void {
  Atomics.add(mem.i32, capturesOf(cpuCtx.cpu) + 1, 1);
}

export function lockdepEnabled(): boolean {
  return (lockDebugFlags() & PROVE_LOCKING) !== 0;
}

export function lockStatEnabled(): boolean {
  return (lockDebugFlags() & LOCK_STAT) !== 0;
}

/**
 * lib/debug_locks.c debug_locks, v6.6: cleared by the first lockdep report, and by add_taint() (the
 * kernel's add_taint() calls debug_locks_off(), "Disabling lock debugging due to kernel taint").
 */
export function debug_locks(): boolean {
  const i32 = mem.i32;
  if (Atomics.load(i32, LOCKDEP_STATE.base() + LOCKDEP_STATE.layout.debug_locks_off) !== 0) return false;
  return Atomics.load(i32, PANIC.base() + PANIC.layout.tainted_mask) === 0;
}

// lib/debug_locks.c debug_locks_off(), v6.6: true only for the caller that turned it off.
export function debug_locks_off(): boolean {
  if (!debug_locks()) return false;
  const at = LOCKDEP_STATE.base() + LOCKDEP_STATE.layout.debug_locks_off;
  return Atomics.compareExchange(mem.i32, at, 0, 1) === 0;
}

// kernel/locking/lockdep.c lockdep_lock(), v6.6: the graph lock, an arch_spinlock_t that lockdep
// itself never tracks.
export function lockdep_lock(): void {
  const at = LOCKDEP_STATE.base() + LOCKDEP_STATE.layout.lockdep_lock;
  const runner = cpuCtx.runner;
  for (let spins = 0; Atomics.compareExchange(mem.i32, at, 0, 1) !== 0; spins++) runner.relax(spins);
}

// kernel/locking/lockdep.c lockdep_unlock(), v6.6
export function lockdep_unlock(): void {
  Atomics.store(mem.i32, LOCKDEP_STATE.base() + LOCKDEP_STATE.layout.lockdep_lock, 0);
}

/** Clear debug_locks_off (a new run); the config switches survive. */
export function lockdepStateReset(): void {
  const b = LOCKDEP_STATE.base();
  Atomics.store(mem.i32, b + LOCKDEP_STATE.layout.debug_locks_off, 0);
  Atomics.store(mem.i32, b + LOCKDEP_STATE.layout.lockdep_lock, 0);
}

// kernel/locking/lockdep.c lockstat_clock(), v6.6: local_clock() in ns; here performance.now() in units
// of 10 ns (the resolution /proc/lock_stat prints), wrapping at 2^32 (43 s), which is enough for a
// hold or a wait. Stamps are only compared on the thread (CPU) that took them.
export function lockstat_clock(): number {
  return Math.floor(performance.now() * 1e5) | 0;
}

/** Elapsed 10 ns units since `stamp` (a lockstat_clock() value). */
export function lockstatSince(stamp: number): number {
  return (lockstat_clock() - stamp) >>> 0;
}

// kernel/locking/lockdep.c print_lockdep_off(), v6.6 (the caller has turned debug_locks off and
// dumps the stack after its own details)
export function print_lockdep_off(bug_msg: string): void {
  printk(KERN_DEBUG, `${bug_msg}\nturning off the locking correctness validator.`);
  if (lockStatEnabled()) printk(KERN_DEBUG, 'Please attach the output of /proc/lock_stat to the bug report');
}
