// kernel/rcu/tree.c rcu_gp_kthread() and kernel/rcu/tree_nocb.h rcu_nocb_cb_kthread() (v6.6),
// folded into one kernel thread: a scenario runs rcu_gp_kthread() as the program of its own CPU
// (`kthread: true`). It sleeps while no callback is queued; otherwise it runs a grace period for the
// oldest callback (unless one already covered it) and invokes every callback that is ready. It
// returns once it has been told to stop and the queue is empty, so the callbacks queued by the
// scenario's other CPUs have all run when the run ends.
import { point } from '../../cpu/context.js';
import { mem } from '../../shm/arena.js';
import { kthread_should_stop } from '../kthread.js';
import { __set_current_state, get_current, schedule_timeout, set_current_state } from '../sched.js';
import { TASK_INTERRUPTIBLE, TASK_RUNNING } from '../task_struct.js';
import { HZ } from '../time.js';
import { rcu_do_batch, rcuOldestCallback } from './callbacks.js';
import { rcuState } from './rcu.js';
import { poll_state_synchronize_rcu, rcuGpSync } from './tree.js';

/** Idle sleep of the GP kthread (jiffies); call_rcu() and kthread_stop() wake it earlier. */
const RCU_GP_KTHREAD_IDLE = HZ / 10;

// kernel/rcu/tree.c rcu_gp_kthread(), v6.6
export function rcu_gp_kthread(): void {
  const i32 = mem.i32;
  const me = get_current();
  if (me === 0) throw new Error('rcu_gp_kthread: needs a task as current');
  const kthreadWord = rcuState('gp_kthread');
  Atomics.store(i32, kthreadWord, me);
  try {
    for (;;) {
      point('rcu_gp_kthread');
      const oldest = rcuOldestCallback();
      if (oldest === null) {
        if (kthread_should_stop() && rcuOldestCallback() === null) return; // re-read: `oldest` may be stale
        // swait_event_idle_exclusive(): state first, then the condition, so call_rcu()'s wake-up is
        // never lost.
        set_current_state(TASK_INTERRUPTIBLE);
        if (rcuOldestCallback() === null && !kthread_should_stop()) schedule_timeout(RCU_GP_KTHREAD_IDLE);
        __set_current_state(TASK_RUNNING);
        continue;
      }
      // rcu_gp_init() .. rcu_gp_cleanup(), shared with any concurrent synchronize_rcu().
      if (!poll_state_synchronize_rcu(oldest.cookie, oldest.domain)) rcuGpSync(oldest.cookie, oldest.domain);
      // rcu_do_batch() (RCU_SOFTIRQ / the rcuo kthread).
      rcu_do_batch();
    }
  } finally {
    Atomics.compareExchange(i32, kthreadWord, me, 0);
  }
}
