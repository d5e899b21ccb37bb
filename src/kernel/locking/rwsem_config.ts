// CONFIG_RWSEM_SPIN_ON_OWNER: whether a writer about to sleep first spins on the lock's owner
// (both rwsem algorithms). The era's rwsem sets the default on each thread (off in every era for
// now, see rwsem_xadd.ts); rwsem_spin_on_owner_enable() overrides it for every CPU through a shared
// word, until set back to the default with `null`. Each thread tests its copy of the word
// (shm/thread_config.ts: taken up at every run start), not the word: a spinning writer asks on
// every pass of its loop.
//
// The handoff switch is an experiment knob no kernel has (mmrace bench rwsem): off, a v5.3+
// waiter's RWSEM_WAIT_TIMEOUT never expires, so no waiter ever sets RWSEM_FLAG_HANDOFF and lock
// stealing goes on as it did before the handoff bit (4f23dbc1e657, v5.3). The xadd rwsem has no
// handoff either way.
import { mem } from '../../shm/arena.js';
import { defineStatics } from '../../shm/statics.js';
import { threadConfig } from '../../shm/thread_config.js';

const CONFIG = defineStatics('rwsem_config', ['spin_on_owner', 'handoff']);
const ERA_DEFAULT = 0;
const ON = 1;
const OFF = 2;

/** This thread's era default (rwsem_ops.ts installs it with the era's rwsem). */
let eraDefault = false;
/** This thread's copy of the shared word. */
let override = ERA_DEFAULT;
/** This thread's copy of the handoff word (ERA_DEFAULT and ON: handoff as the algorithm does it). */
let handoff = ERA_DEFAULT;
threadConfig(() => {
  const b = CONFIG.tryBase();
  override = b < 0 ? ERA_DEFAULT : Atomics.load(mem.i32, b + CONFIG.layout.spin_on_owner);
  handoff = b < 0 ? ERA_DEFAULT : Atomics.load(mem.i32, b + CONFIG.layout.handoff);
});

export function setRwsemSpinDefault(on: boolean): void {
  eraDefault = on;
}

/** true / false: on or off on every CPU; null: the era's default. */
export function rwsem_spin_on_owner_enable(on: boolean | null): void {
  override = on === null ? ERA_DEFAULT : on ? ON : OFF;
  Atomics.store(mem.i32, CONFIG.base() + CONFIG.layout.spin_on_owner, override);
}

/** false: waiters never time out into a handoff (v5.3+ algorithms); true / null: as the kernel. */
export function rwsem_handoff_enable(on: boolean | null): void {
  handoff = on === null ? ERA_DEFAULT : on ? ON : OFF;
  Atomics.store(mem.i32, CONFIG.base() + CONFIG.layout.handoff, handoff);
}

/** RWSEM_WAIT_TIMEOUT in jiffies, or about 12 days (half the jiffies wrap) with handoff off. */
export function rwsemWaitTimeout(timeout: number): number {
  return handoff === OFF ? 0x3fffffff : timeout;
}

export function rwsemSpinEnabled(): boolean {
  return override === ERA_DEFAULT ? eraDefault : override === ON;
}

/** Stands in for need_resched() ending a spin on a host that has no scheduler tick. */
export const MAX_SPIN = 20_000;
