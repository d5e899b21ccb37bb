// An emulator check with no kernel counterpart: a fault that installs a fresh page where the OOM
// reaper discarded the victim's page. Before 6b31d5955cb2 ("mm, oom: check for
// check_stable_address_space", v4.13-rc5) a thread of the victim that touched a reaped address got
// a zero page where its data had been: silent corruption, nothing in dmesg. Here the reaper stamps
// every present PTE it clears, under that table's PTE lock; a fault that finds the stamp when it
// installs, under the same lock, reports it. The flag alone would not do: the reaper sets
// MMF_UNSTABLE without the PTE lock, so a fault that checked it may legitimately install a page
// after it went up (the reaper then zaps that page too).
//
// One bit per word of every page frame (only table pages use theirs): set by the reaper's zap,
// cleared by any other zap of the slot (munmap, exit_mmap: the data is gone on purpose) and when
// the frame becomes a table.

import { dump_stack } from '../kernel/panic.js';
import { hex8, KERN_ALERT, printk } from '../kernel/printk.js';
import { get_current } from '../kernel/sched.js';
import { task_comm, task_pid } from '../kernel/task_struct.js';
import type { Arena, RegionSpec } from '../shm/arena.js';
import { mem } from '../shm/arena.js';
import { FRAMES_REGION, PAGE_WORDS } from './page_alloc.js';

export const REAPED_PTES_REGION = 'oom_reaped_ptes';

export function reapedPtesRegions(nrPages: number): RegionSpec[] {
  return [{ name: REAPED_PTES_REGION, words: (nrPages * PAGE_WORDS) >>> 5 }];
}

let basesFor: Arena | undefined;
let framesBase = 0;
let bitsBase = 0;
function bit(ptep: number): number {
  if (basesFor !== mem.arena) {
    framesBase = mem.arena.region(FRAMES_REGION).base;
    bitsBase = mem.arena.region(REAPED_PTES_REGION).base;
    basesFor = mem.arena;
  }
  return ptep - framesBase;
}

/** The reaper cleared a present PTE (under its PTE lock). */
export function markReapedPte(ptep: number): void {
  const b = bit(ptep);
  Atomics.or(mem.i32, bitsBase + (b >>> 5), 1 << (b & 31));
}

/** `n` PTEs from `ptep` were zapped by someone else than the reaper, or the table is new. */
export function clearReapedPtes(ptep: number, n: number): void {
  let b = bit(ptep);
  const end = b + n;
  while (b < end) {
    const w = b >>> 5;
    const lo = b & 31;
    const hi = Math.min(32, lo + end - b);
    const mask = hi - lo === 32 ? -1 : ((1 << (hi - lo)) - 1) << lo;
    // A word nobody stamped (nearly all of them) costs one load.
    if (Atomics.load(mem.i32, bitsBase + w) & mask) Atomics.and(mem.i32, bitsBase + w, ~mask);
    b += hi - lo;
  }
}

/** At a fault's set_pte_at() over a none PTE, under its PTE lock: was the victim's page here? */
export function checkReapedPte(ptep: number, address: number): void {
  const b = bit(ptep);
  if (!(Atomics.load(mem.i32, bitsBase + (b >>> 5)) & (1 << (b & 31)))) return;
  const tsk = get_current();
  printk(
    KERN_ALERT,
    [
      `BUG: mmrace: fault repopulated a page the OOM reaper freed, in process ${task_comm(tsk)} pid:${task_pid(tsk)} addr:${hex8(address)}`,
      'The task reads a fresh zero page where its data was (silent corruption: since 6b31d5955cb2 the fault checks MMF_UNSTABLE under the PTE lock and fails with SIGBUS)',
    ].join('\n'),
  );
  dump_stack(KERN_ALERT);
  // Once per slot: the next fault here finds a page, not the reaper's hole.
  Atomics.and(mem.i32, bitsBase + (b >>> 5), ~(1 << (b & 31)));
}
