// The emulated machine: every region of the arena, and the per-run reset of the kernel's state.
// Importing this module loads every kernel and mm file that owns static data or a slab cache.
import { CONTROL_REGION } from '../cpu/control.js';
import { LOG_REGION, logReset, logUsedWords } from '../cpu/logring.js';
import { RECORD_REGION } from '../cpu/record.js';
import { TRACE_REGION } from '../cpu/trace_buffer.js';
import { forkReset } from '../kernel/fork.js';
import { kthread_stop } from '../kernel/kthread.js';
import { lockdepReset } from '../kernel/locking/lockdep.js';
import { LOCKDEP_STATE } from '../kernel/locking/lockdep_state.js';
import { panicReset } from '../kernel/panic.js';
import { rcuReset } from '../kernel/rcu/rcu.js';
import { KASAN, kasanReset } from '../mm/kasan.js';
import { memoryReset } from '../mm/memory.js';
import type { RegionSpec } from '../shm/arena.js';
import type { WordRange } from '../shm/arena_snapshot.js';
import { sealLayout } from '../shm/layout_seal.js';
import { defineStatics, staticsRegions } from '../shm/statics.js';
import { STRTAB_REGION } from '../shm/strtab.js';
import '../mm/mmap.js';
import '../mm/oom_kill.js';
import { reapedPtesRegions } from '../mm/oom_reaped_ptes.js';
import { page_alloc_reset, pageAllocRegions } from '../mm/page_alloc.js';
import { allCaches, kmem_cache_reset, slabRegions } from '../mm/slab.js';
import { mem } from '../shm/arena.js';
import type { Globals, Scenario } from './scenario.js';

export const MAX_GLOBALS = 64;
export const SCENARIO_GLOBALS = defineStatics('scenario_globals', [`g[${MAX_GLOBALS}]`]);

export const DEFAULT_PAGES = 1024;

export function machineRegions(nrPages = DEFAULT_PAGES): RegionSpec[] {
  // From here on a new statics region or slab cache would be missing from the arena.
  sealLayout();
  return [
    CONTROL_REGION,
    LOG_REGION,
    STRTAB_REGION,
    ...staticsRegions(),
    ...slabRegions(),
    ...pageAllocRegions(nrPages),
    ...reapedPtesRegions(nrPages),
    // Last, so that adding it moved no kernel address: free-mode --record's buffers (cpu/record.ts).
    RECORD_REGION,
    // --trace's per-CPU buffers (cpu/trace_buffer.ts), also after every kernel address.
    TRACE_REGION,
  ];
}

/** A fresh kernel for the next run: empty log, empty allocators, no taint. */
export function kernelReset(): void {
  logReset();
  panicReset();
  kasanReset();
  memoryReset();
  page_alloc_reset();
  for (const c of allCaches()) kmem_cache_reset(c);
  forkReset();
  rcuReset();
  lockdepReset();
}

/**
 * Regions a run's reset and setup leave to the machine: the CPUs' control block, the log (its
 * used part is run state: runStateRanges()), the string table (ids stay valid for every thread),
 * --record and --trace buffers, switches set before a campaign (lockdep, lock_stat, KASAN's
 * atomics check, rwsem spinning), and what lockdep and lock_stat gather across runs.
 */
export const KEPT_ACROSS_RUNS: readonly string[] = [
  CONTROL_REGION.name,
  LOG_REGION.name,
  STRTAB_REGION.name,
  RECORD_REGION.name,
  TRACE_REGION.name,
  LOCKDEP_STATE.region.name,
  KASAN.region.name,
  'data:lockdep_classes',
  'data:lock_stat',
  'data:lock_event_counts',
  'data:rwsem_config',
  'data:hung_task',
];

/** The per-run words of the kept regions that kernelReset() resets. */
function keptRunWords(): WordRange[] {
  const word = (base: number, off: number): WordRange => ({ start: base + off, end: base + off + 1 });
  const k = KASAN.base();
  const l = LOCKDEP_STATE.base();
  return [
    word(k, KASAN.layout.reported),
    word(k, KASAN.layout.reports),
    word(l, LOCKDEP_STATE.layout.debug_locks_off),
    word(l, LOCKDEP_STATE.layout.lockdep_lock),
  ];
}

/** Every word a run's reset and setup build: what a snapshot after setup copies. */
export function runStateRanges(): WordRange[] {
  const kept = new Set(KEPT_ACROSS_RUNS);
  const whole = mem.arena.regions
    .filter((r) => !kept.has(r.name))
    .map((r) => ({ start: r.base, end: r.base + r.words }));
  return [...whole, ...keptRunWords(), logUsedWords()];
}

/**
 * The run state as a new arena has it (zeroes, an empty log), so that setup builds the same words
 * whatever runs came before: free frames and freed objects keep what the last run left otherwise.
 */
export function cleanRunState(): void {
  // The log's header is among the ranges: sequence numbers start from 0 again.
  for (const r of runStateRanges()) mem.i32.fill(0, r.start, r.end);
}

export function writeGlobals(names: readonly string[], g: Record<string, number>): void {
  if (names.length > MAX_GLOBALS) throw new RangeError(`at most ${MAX_GLOBALS} scenario globals`);
  const b = SCENARIO_GLOBALS.base();
  names.forEach((n, i) => {
    Atomics.store(mem.i32, b + i, g[n] ?? 0);
  });
}

export function readGlobals(names: readonly string[]): Record<string, number> {
  const b = SCENARIO_GLOBALS.base();
  const g: Record<string, number> = {};
  names.forEach((n, i) => {
    g[n] = Atomics.load(mem.i32, b + i);
  });
  return g;
}

/**
 * Only the scenario's kthread CPUs are left: tell them to stop, kthread_stop() on each one's task.
 * The main thread's hook (variant_hooks.ts) and, in controlled mode, the CPU that finds them alone
 * (cpu_entry.ts kthreadStopper) both call it.
 */
export function stopScenarioKthreads(s: Scenario, globals: Globals): void {
  for (const c of s.cpus) if (c.kthread) kthread_stop(globals[c.task]!);
}
