// kernel/locking/lock_events.c and lock_events_list.h (v5.2+, CONFIG_LOCK_EVENT_COUNTS): how often
// each lock slow-path event happened, as /sys/kernel/debug/lock_event_counts/ shows them. The
// kernel keeps per-CPU counts and sums them on read; here each event is one shared word. The
// xadd-era rwsem (v4.14) had no such counters: mmrace counts the same events there too.
import { mem } from '../../shm/arena.js';
import { defineStatics } from '../../shm/statics.js';

export const LOCK_EVENTS = [
  'rwsem_opt_lock', // write locks taken by optimistic spinning
  'rwsem_opt_fail', // spins that ended without the lock
  'rwsem_wlock_handoff', // writers that set the handoff bit
  'rwsem_rlock_steal', // readers that stole the lock in the slow path
] as const;
export type LockEvent = (typeof LOCK_EVENTS)[number];

const COUNTS = defineStatics('lock_event_counts', LOCK_EVENTS);

export function lockevent_inc(e: LockEvent): void {
  Atomics.add(mem.i32, COUNTS.base() + COUNTS.layout[e], 1);
}

export function lockEventCounts(): Record<LockEvent, number> {
  const base = COUNTS.base();
  return Object.fromEntries(
    LOCK_EVENTS.map((e) => [e, Atomics.load(mem.i32, base + COUNTS.layout[e])]),
  ) as Record<LockEvent, number>;
}

export function lockEventsReset(): void {
  for (const e of LOCK_EVENTS) Atomics.store(mem.i32, COUNTS.base() + COUNTS.layout[e], 0);
}
