// kernel/locking/locktorture.c rwsem_lock_ops @00c24c9cfa78: one global rw_semaphore, writers
// take it with down_write(), readers with down_read().
import { down_read, down_write, init_rwsem, RWSEM, up_read, up_write } from '../../kernel/locking/rwsem.js';
import { defineStatics } from '../../shm/statics.js';
import {
  cxt,
  type LockTortureOps,
  mdelay,
  type TortureRandomState,
  torture_preempt_schedule,
  torture_random,
} from './ops.js';

// static DECLARE_RWSEM(torture_rwsem);
const TORTURE_RWSEM = defineStatics('torture_rwsem', [`sem[${RWSEM.SIZE}]`]);
const torture_rwsem = (): number => TORTURE_RWSEM.base() + TORTURE_RWSEM.layout.sem;

// kernel/locking/locktorture.c torture_rwsem_down_write()
function torture_rwsem_down_write(_tid: number): void {
  down_write(torture_rwsem());
}

// kernel/locking/locktorture.c torture_rwsem_write_delay()
export function torture_rwsem_write_delay(trsp: TortureRandomState): void {
  const long_hold = cxt.long_hold;
  /* We want a long delay occasionally to force massive contention. */
  if (long_hold && !(torture_random(trsp) % (cxt.nrealwriters_stress * 2000 * long_hold)))
    mdelay(long_hold * 10);
  if (!(torture_random(trsp) % (cxt.nrealwriters_stress * 20000))) torture_preempt_schedule();
}

// kernel/locking/locktorture.c torture_rwsem_up_write()
function torture_rwsem_up_write(_tid: number): void {
  up_write(torture_rwsem());
}

// kernel/locking/locktorture.c torture_rwsem_down_read()
function torture_rwsem_down_read(_tid: number): number {
  down_read(torture_rwsem());
  return 0;
}

// kernel/locking/locktorture.c torture_rwsem_read_delay()
export function torture_rwsem_read_delay(trsp: TortureRandomState): void {
  const long_hold = cxt.long_hold;
  /* We want a long delay occasionally to force massive contention. */
  if (long_hold && !(torture_random(trsp) % (cxt.nrealreaders_stress * 2000 * long_hold)))
    mdelay(long_hold * 2);
  else mdelay(Math.trunc(long_hold / 2));
  if (!(torture_random(trsp) % (cxt.nrealreaders_stress * 20000))) torture_preempt_schedule();
}

// kernel/locking/locktorture.c torture_rwsem_up_read()
function torture_rwsem_up_read(_tid: number, _cookie: number): void {
  up_read(torture_rwsem());
}

export const rwsem_lock_ops: LockTortureOps = {
  init: () => init_rwsem(torture_rwsem()),
  writelock: torture_rwsem_down_write,
  write_delay: torture_rwsem_write_delay,
  writeunlock: torture_rwsem_up_write,
  readlock: torture_rwsem_down_read,
  read_delay: torture_rwsem_read_delay,
  readunlock: torture_rwsem_up_read,
  name: 'rwsem_lock',
};
