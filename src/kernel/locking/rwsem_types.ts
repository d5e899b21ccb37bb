// include/linux/rwsem.h and kernel/locking/rwsem.c: struct rw_semaphore's layout and its bits
// (BITS_PER_LONG = 32).
import { defineStruct } from '../../shm/layout.js';

export const RWSEM = defineStruct('rw_semaphore', [
  'count',
  'owner',
  'osq',
  'wait_lock',
  'wait_first',
  'wait_last',
]);

export const RWSEM_WRITER_LOCKED = 1 << 0;
export const RWSEM_FLAG_WAITERS = 1 << 1;
export const RWSEM_FLAG_HANDOFF = 1 << 2;
export const RWSEM_FLAG_READFAIL = 1 << 31;
export const RWSEM_READER_SHIFT = 8;
export const RWSEM_READER_BIAS = 1 << RWSEM_READER_SHIFT;
export const RWSEM_READER_MASK = ~(RWSEM_READER_BIAS - 1);
export const RWSEM_WRITER_MASK = RWSEM_WRITER_LOCKED;
export const RWSEM_LOCK_MASK = RWSEM_WRITER_MASK | RWSEM_READER_MASK;
export const RWSEM_READ_FAILED_MASK =
  RWSEM_WRITER_MASK | RWSEM_FLAG_WAITERS | RWSEM_FLAG_HANDOFF | RWSEM_FLAG_READFAIL;

export const RWSEM_READER_OWNED = 1 << 0;
export const RWSEM_NONSPINNABLE = 1 << 1;
export const RWSEM_OWNER_FLAGS_MASK = RWSEM_READER_OWNED | RWSEM_NONSPINNABLE;

export const RWSEM_WAITING_FOR_WRITE = 0;
export const RWSEM_WAITING_FOR_READ = 1;
