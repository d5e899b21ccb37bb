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

// v4.14/v4.15 (kernel/locking/rwsem-xadd.c with arch/x86/include/asm/rwsem.h, i386): the count's
// low 16 bits count the active lockers, the high half is negative while anyone waits or a writer
// is active. Same words (count, owner, osq, wait_lock, wait list) as the layout above.
export const RWSEM_UNLOCKED_VALUE = 0;
export const RWSEM_ACTIVE_BIAS = 1;
export const RWSEM_ACTIVE_MASK = 0xffff;
export const RWSEM_WAITING_BIAS = -RWSEM_ACTIVE_MASK - 1;
export const RWSEM_ACTIVE_READ_BIAS = RWSEM_ACTIVE_BIAS;
export const RWSEM_ACTIVE_WRITE_BIAS = RWSEM_WAITING_BIAS + RWSEM_ACTIVE_BIAS;
/** kernel/locking/rwsem.h, v4.14: the owner of a reader-owned rwsem is this fake task pointer. */
export const RWSEM_READER_OWNED_V4_14 = 1;

/** DIV_ROUND_UP(HZ, 250): 4 jiffies at HZ=1000 (v5.3+ handoff). */
export const RWSEM_WAIT_TIMEOUT = 4;
export const MAX_READERS_WAKEUP = 0x100;
export { EINTR } from '../errno.js';
