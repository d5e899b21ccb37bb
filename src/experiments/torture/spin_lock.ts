// kernel/locking/locktorture.c spin_lock_ops @00c24c9cfa78: one global spinlock (the emulator's
// ticket lock), writers only.

import { spin_lock, spin_lock_init, spin_unlock } from '../../kernel/locking/spinlock.js';
import { pr_alert } from '../../kernel/printk.js';
import { jiffies } from '../../kernel/time.js';
import { defineStatics } from '../../shm/statics.js';
import {
  cxt,
  type LockTortureOps,
  mdelay,
  type TortureRandomState,
  torture_preempt_schedule,
  torture_random,
  udelay,
} from './ops.js';

// static DEFINE_SPINLOCK(torture_spinlock); (a few spare words for lock debugging fields)
const TORTURE_SPINLOCK = defineStatics('torture_spinlock', ['lock[4]']);
const torture_spinlock = (): number => TORTURE_SPINLOCK.base() + TORTURE_SPINLOCK.layout.lock;

// kernel/locking/locktorture.c torture_spin_lock_write_lock()
function torture_spin_lock_write_lock(_tid: number): void {
  spin_lock(torture_spinlock());
}

// kernel/locking/locktorture.c torture_spin_lock_write_delay()
export function torture_spin_lock_write_delay(trsp: TortureRandomState): void {
  const shortdelay_us = 2;
  const long_hold = cxt.long_hold;
  /* We want a short delay mostly to emulate likely code, and
   * we want a long delay occasionally to force massive contention. */
  if (long_hold && !(torture_random(trsp) % (cxt.nrealwriters_stress * 2000 * long_hold))) {
    const j = jiffies();
    mdelay(long_hold);
    pr_alert(`torture_spin_lock_write_delay: delay = ${(jiffies() - j) >>> 0} jiffies.`);
  }
  if (!(torture_random(trsp) % (cxt.nrealwriters_stress * 200 * shortdelay_us))) udelay(shortdelay_us);
  if (!(torture_random(trsp) % (cxt.nrealwriters_stress * 20000))) torture_preempt_schedule();
}

// kernel/locking/locktorture.c torture_spin_lock_write_unlock()
function torture_spin_lock_write_unlock(_tid: number): void {
  spin_unlock(torture_spinlock());
}

export const spin_lock_ops: LockTortureOps = {
  init: () => spin_lock_init(torture_spinlock()),
  writelock: torture_spin_lock_write_lock,
  write_delay: torture_spin_lock_write_delay,
  writeunlock: torture_spin_lock_write_unlock,
  readlock: null,
  read_delay: null,
  readunlock: null,
  name: 'spin_lock',
};
