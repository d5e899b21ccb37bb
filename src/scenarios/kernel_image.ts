// The emulated machine: every region of the arena, and the per-run reset of the kernel's state.
// Importing this module loads every kernel and mm file that owns static data or a slab cache.
import { CONTROL_REGION } from '../cpu/control.js';
import { LOG_REGION, logReset } from '../cpu/logring.js';
import { RECORD_REGION } from '../cpu/record.js';
import { TRACE_REGION } from '../cpu/trace_buffer.js';
import { forkReset } from '../kernel/fork.js';
import { lockdepReset } from '../kernel/locking/lockdep.js';
import { panicReset } from '../kernel/panic.js';
import { rcuReset } from '../kernel/rcu/rcu.js';
import { kasanReset } from '../mm/kasan.js';
import { memoryReset } from '../mm/memory.js';
import type { RegionSpec } from '../shm/arena.js';
import { sealLayout } from '../shm/layout_seal.js';
import { defineStatics, staticsRegions } from '../shm/statics.js';
import { STRTAB_REGION } from '../shm/strtab.js';
import '../mm/mmap.js';
import '../mm/oom_kill.js';
import { reapedPtesRegions } from '../mm/oom_reaped_ptes.js';
import { page_alloc_reset, pageAllocRegions } from '../mm/page_alloc.js';
import { allCaches, kmem_cache_reset, slabRegions } from '../mm/slab.js';
import { mem } from '../shm/arena.js';

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
