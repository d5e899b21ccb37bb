// kernel/locking/locktorture.c lock_busted_ops @00c24c9cfa78: a "lock" whose lock and unlock do
// nothing, so that writers meet inside the write section: it proves the checks fire.
import {
  cxt,
  type LockTortureOps,
  mdelay,
  type TortureRandomState,
  torture_preempt_schedule,
  torture_random,
} from './ops.js';

// kernel/locking/locktorture.c torture_lock_busted_write_lock()
function torture_lock_busted_write_lock(_tid: number): void {
  /* BUGGY, do not use in real life!!! */
}

// kernel/locking/locktorture.c torture_lock_busted_write_delay()
function torture_lock_busted_write_delay(trsp: TortureRandomState): void {
  const long_hold = cxt.long_hold;
  /* We want a long delay occasionally to force massive contention. */
  if (long_hold && !(torture_random(trsp) % (cxt.nrealwriters_stress * 2000 * long_hold))) mdelay(long_hold);
  if (!(torture_random(trsp) % (cxt.nrealwriters_stress * 20000))) torture_preempt_schedule();
}

// kernel/locking/locktorture.c torture_lock_busted_write_unlock()
function torture_lock_busted_write_unlock(_tid: number): void {
  /* BUGGY, do not use in real life!!! */
}

export const lock_busted_ops: LockTortureOps = {
  init: () => {},
  writelock: torture_lock_busted_write_lock,
  write_delay: torture_lock_busted_write_delay,
  writeunlock: torture_lock_busted_write_unlock,
  readlock: null,
  read_delay: null,
  readunlock: null,
  name: 'lock_busted',
};
