// CONFIG_RWSEM_SPIN_ON_OWNER: whether a writer about to sleep first spins on the lock's owner
// (both rwsem algorithms). The era's rwsem sets the default on each thread (off in every era for
// now, see rwsem_xadd.ts); rwsem_spin_on_owner_enable() overrides it for every CPU through a shared
// word, until set back to the default with `null`. Each thread tests its copy of the word
// (shm/thread_config.ts: taken up at every run start), not the word: a spinning writer asks on
// every pass of its loop.
import { mem } from '../../shm/arena.js';
import { defineStatics } from '../../shm/statics.js';
import { threadConfig } from '../../shm/thread_config.js';

const CONFIG = defineStatics('rwsem_config', ['spin_on_owner']);
const ERA_DEFAULT = 0;
const ON = 1;
const OFF = 2;

/** This thread's era default (rwsem_ops.ts installs it with the era's rwsem). */
let eraDefault = false;
/** This thread's copy of the shared word. */
let override = ERA_DEFAULT;
threadConfig(() => {
  const b = CONFIG.tryBase();
  override = b < 0 ? ERA_DEFAULT : Atomics.load(mem.i32, b + CONFIG.layout.spin_on_owner);
});

export function setRwsemSpinDefault(on: boolean): void {
  eraDefault = on;
}

/** true / false: on or off on every CPU; null: the era's default. */
export function rwsem_spin_on_owner_enable(on: boolean | null): void {
  override = on === null ? ERA_DEFAULT : on ? ON : OFF;
  Atomics.store(mem.i32, CONFIG.base() + CONFIG.layout.spin_on_owner, override);
}

export function rwsemSpinEnabled(): boolean {
  return override === ERA_DEFAULT ? eraDefault : override === ON;
}

/** Stands in for need_resched() ending a spin on a host that has no scheduler tick. */
export const MAX_SPIN = 20_000;
