// CONFIG_RWSEM_SPIN_ON_OWNER: whether a writer about to sleep first spins on the lock's owner
// (both rwsem algorithms). The era's rwsem sets the default on each thread (off in every era for
// now, see rwsem_xadd.ts); rwsem_spin_on_owner_enable() overrides it for every CPU through a shared
// word, until set back to the default with `null`.
import { mem } from '../../shm/arena.js';
import { defineStatics } from '../../shm/statics.js';

const CONFIG = defineStatics('rwsem_config', ['spin_on_owner']);
const ERA_DEFAULT = 0;
const ON = 1;
const OFF = 2;

/** This thread's era default (rwsem_ops.ts installs it with the era's rwsem). */
let eraDefault = false;

export function setRwsemSpinDefault(on: boolean): void {
  eraDefault = on;
}

/** true / false: on or off on every CPU; null: the era's default. */
export function rwsem_spin_on_owner_enable(on: boolean | null): void {
  Atomics.store(
    mem.i32,
    CONFIG.base() + CONFIG.layout.spin_on_owner,
    on === null ? ERA_DEFAULT : on ? ON : OFF,
  );
}

export function rwsemSpinEnabled(): boolean {
  const v = Atomics.load(mem.i32, CONFIG.base() + CONFIG.layout.spin_on_owner);
  return v === ERA_DEFAULT ? eraDefault : v === ON;
}

/** Stands in for need_resched() ending a spin on a host that has no scheduler tick. */
export const MAX_SPIN = 20_000;
