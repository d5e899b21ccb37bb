// A broken v4.14 rw_semaphore, to prove that torture catches one: the x86 write fast path tests
// the waiting half of the old count instead of its active half, so a writer takes the lock while
// readers hold it. Everything else is rwsem-xadd.c's (rwsem_v4_14, whatever --era says), so only
// that test is wrong. BUGGY, do not use in real life!!!

import { RWSEM, RWSEM_ACTIVE_MASK, RWSEM_ACTIVE_WRITE_BIAS } from '../../kernel/locking/rwsem_types.js';
import { rwsem_down_write_failed, rwsem_v4_14 } from '../../kernel/locking/rwsem_xadd.js';
import { get_current } from '../../kernel/sched.js';
import { mem } from '../../shm/arena.js';
import { defineStatics } from '../../shm/statics.js';
import type { LockTortureOps } from './ops.js';
import { torture_rwsem_read_delay, torture_rwsem_write_delay } from './rwsem_lock.js';

const BUSTED_RWSEM = defineStatics('torture_rwsem_xadd_busted', [`sem[${RWSEM.SIZE}]`]);
const busted_rwsem = (): number => BUSTED_RWSEM.base() + BUSTED_RWSEM.layout.sem;

// arch/x86/include/asm/rwsem.h ____down_write(), v4.14, with the wrong mask.
function torture_rwsem_xadd_busted_down_write(_tid: number): void {
  const sem = busted_rwsem();
  const old = Atomics.add(mem.i32, sem + RWSEM.count, RWSEM_ACTIVE_WRITE_BIAS);
  if ((old & ~RWSEM_ACTIVE_MASK) !== 0) rwsem_down_write_failed(sem);
  Atomics.store(mem.i32, sem + RWSEM.owner, get_current());
}

export const rwsem_xadd_busted_ops: LockTortureOps = {
  init: () => rwsem_v4_14.__init_rwsem(busted_rwsem()),
  writelock: torture_rwsem_xadd_busted_down_write,
  write_delay: torture_rwsem_write_delay,
  writeunlock: () => rwsem_v4_14.__up_write(busted_rwsem()),
  readlock: () => {
    rwsem_v4_14.__down_read(busted_rwsem());
    return 0;
  },
  read_delay: torture_rwsem_read_delay,
  readunlock: () => rwsem_v4_14.__up_read(busted_rwsem()),
  name: 'rwsem_xadd_busted',
};
