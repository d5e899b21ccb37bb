// The rw_semaphore's owner word and the wake types, alike in both eras' rwsems: the owner is the
// writing task (kernel/locking/rwsem.h in v4.14, rwsem.c from v5.3), cleared before the count is
// released; the reader-owned encodings differ and stay with each algorithm.
import { mem } from '../../shm/arena.js';
import { get_current } from '../sched.js';
import { RWSEM } from './rwsem_types.js';

// enum rwsem_wake_type (rwsem-xadd.c, v4.14; rwsem.c, v6.6)
export const RWSEM_WAKE_ANY = 0;
export const RWSEM_WAKE_READERS = 1;
export const RWSEM_WAKE_READ_OWNED = 2;

/**
 * Word addresses of sem->count and sem->owner. Literal offsets: V8 would load a layout object's
 * field on every lock operation; checked against the layout once, here.
 */
export const cnt = (sem: number): number => sem;
export const own = (sem: number): number => sem + 1;
if (RWSEM.count !== 0 || RWSEM.owner !== 1)
  throw new Error('rwsem_owner.ts: cnt()/own() disagree with RWSEM');

// kernel/locking/rwsem.h rwsem_set_owner(), v4.14 (rwsem.c, v6.6)
export function rwsem_set_owner(sem: number): void {
  Atomics.store(mem.i32, own(sem), get_current());
}

// kernel/locking/rwsem.h rwsem_clear_owner(), v4.14 (rwsem.c, v6.6)
export function rwsem_clear_owner(sem: number): void {
  Atomics.store(mem.i32, own(sem), 0);
}
