// The rw_semaphore algorithm slot: the era profile (src/eras/) picks which kernel's rwsem runs
// behind the public entry points (rwsem.ts) and applyEra() installs it on every thread. The
// entry points keep lockdep, lock_stat and --trace for both; these are the arch/algorithm halves
// the kernel's kernel/locking/rwsem.c wrappers call (__down_read(), __up_write(), ...).
import { bindRwsemOps } from './rwsem.js';
import { setRwsemSpinDefault } from './rwsem_config.js';
import { rwsem_v6_6 } from './rwsem_v6_6.js';

export interface RwsemOps {
  /** Shown in torture's parameter line and the era list. */
  readonly name: string;
  readonly source: string;
  /** The era's default for writer optimistic spinning (rwsem_config.ts). */
  readonly CONFIG_RWSEM_SPIN_ON_OWNER: boolean;
  /** count, owner, osq, wait_lock, wait list (lockdep's map is the entry point's). */
  __init_rwsem(sem: number): void;
  /** Each acquisition sets the owner word as the era's wrappers did. */
  __down_read(sem: number): void;
  /** 0, or -EINTR when a fatal signal ended the wait. */
  __down_read_killable(sem: number): number;
  __down_read_trylock(sem: number): boolean;
  __down_write(sem: number): void;
  __down_write_killable(sem: number): number;
  __down_write_trylock(sem: number): boolean;
  __up_read(sem: number): void;
  __up_write(sem: number): void;
  __downgrade_write(sem: number): void;
  /** Debug view for the reports: readers counted in the count word (active or attempting). */
  rwsem_reader_count(sem: number): number;
}

/** The installed algorithm; v6.6 until an era says otherwise. */
export const rwsemOps: RwsemOps = { ...rwsem_v6_6 };

/** applyEra(): this thread's rwsem becomes `ops` (every CPU and the main thread apply the same). */
export function installRwsem(ops: RwsemOps): void {
  Object.assign(rwsemOps, ops);
  bindRwsemOps(ops);
  setRwsemSpinDefault(ops.CONFIG_RWSEM_SPIN_ON_OWNER);
}
