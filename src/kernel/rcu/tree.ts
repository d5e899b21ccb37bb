// kernel/rcu/tree.c (v6.6): grace periods. synchronize_rcu() and the polled API keep the kernel's
// interface and gp_seq cookies; what a grace period waits for is the era's flavour (flavour.ts):
// rcu_read_lock() sections through liburcu's memb algorithm (memb.ts), preempt-disabled regions
// through the per-CPU preempt counts (sched_qs.ts). Whoever needs a grace period runs it (urcu
// style), serialized by gp_mutex; a caller whose cookie was satisfied by someone else's grace
// period returns at once. Before v4.20 RCU-sched is a second domain with its own gp_seq
// (synchronize_sched()).
import { atomicPoint, cpuCtx, point } from '../../cpu/context.js';
import { mem } from '../../shm/arena.js';
import { might_sleep } from '../sched.js';
import { rcuFlavour } from './flavour.js';
import { GP_FUTEX_WAIT_MS } from './memb.js';
import {
  RCU_DOMAIN,
  RCU_GET_STATE_COMPLETED,
  RCU_SCHED_DOMAIN,
  RCU_STATE,
  type RcuDomain,
  rcu_seq_done,
  rcu_seq_end,
  rcu_seq_snap,
  rcu_seq_start,
  rcuReaderSlot,
  rcuState,
} from './rcu.js';
import { lockdep_rcu_suspicious, rcu_read_lock_held, rcu_read_lock_sched_held } from './update.js';

export { RCU_CPU_STALL_TIMEOUT, RCU_QS_ACTIVE_ATTEMPTS } from './memb.js';

function gpSeq(domain: RcuDomain = RCU_DOMAIN): number {
  return (
    RCU_STATE.base() + (domain === RCU_SCHED_DOMAIN ? RCU_STATE.layout.gp_seq_sched : RCU_STATE.layout.gp_seq)
  );
}

/** The gp_seq value now (for reports and tests): a grace period is in progress when it is odd. */
export function rcuGpSeq(domain: RcuDomain = RCU_DOMAIN): number {
  return Atomics.load(mem.i32, gpSeq(domain));
}

// kernel/rcu/tree.c get_state_synchronize_rcu(), v6.6 (v4.14 also get_state_synchronize_sched()
// for the RCU-sched domain).
export function get_state_synchronize_rcu(domain: RcuDomain = RCU_DOMAIN): number {
  return rcu_seq_snap(gpSeq(domain));
}

// kernel/rcu/tree.c poll_state_synchronize_rcu(), v6.6: has a full grace period elapsed since the
// cookie was taken?
export function poll_state_synchronize_rcu(oldstate: number, domain: RcuDomain = RCU_DOMAIN): boolean {
  return oldstate === RCU_GET_STATE_COMPLETED || rcu_seq_done(gpSeq(domain), oldstate);
}

// kernel/rcu/tree.c synchronize_rcu(), v6.6: wait until every read-side critical section that began
// before the call has ended.
export function synchronize_rcu(): void {
  might_sleep('kernel/rcu/tree.c:synchronize_rcu');
  if (rcu_read_lock_held())
    lockdep_rcu_suspicious(
      'kernel/rcu/tree.c:synchronize_rcu',
      'Illegal synchronize_rcu() in RCU read-side critical section',
    );
  rcuGpSync(get_state_synchronize_rcu());
}

// kernel/rcu/tree.c synchronize_sched(), v4.14: wait until every CPU that was preempt-disabled
// has left that region (from v4.20 the era's flavour makes this domain wait like synchronize_rcu()).
export function synchronize_sched(): void {
  might_sleep('kernel/rcu/tree.c:synchronize_sched');
  if (rcu_read_lock_sched_held())
    lockdep_rcu_suspicious(
      'kernel/rcu/tree.c:synchronize_sched',
      'Illegal synchronize_sched() in RCU-sched read-side critical section',
    );
  rcuGpSync(get_state_synchronize_rcu(RCU_SCHED_DOMAIN), RCU_SCHED_DOMAIN);
}

// kernel/rcu/tree.c cond_synchronize_rcu(), v6.6: wait only if no grace period has elapsed since
// the cookie was taken.
export function cond_synchronize_rcu(oldstate: number): void {
  if (!poll_state_synchronize_rcu(oldstate)) synchronize_rcu();
}

/**
 * Returns once poll_state_synchronize_rcu(cookie, domain) holds, running a grace period if nobody
 * else's has covered the cookie. Emulator machinery behind synchronize_rcu(), synchronize_sched(),
 * rcu_barrier() and the GP kthread: it does no might_sleep()/lockdep check of its own. The
 * caller's own reader word and preempt count are never waited for (a kernel that synchronizes
 * inside a reader deadlocks; the API reported it).
 */
export function rcuGpSync(cookie: number, domain: RcuDomain = RCU_DOMAIN): void {
  if (poll_state_synchronize_rcu(cookie, domain)) return;
  point('synchronize_rcu');
  gpMutexLock();
  try {
    // Someone else's grace period, started after the cookie was taken, may have ended meanwhile
    // (urcu's gp_waiters batching; Tree RCU's rcu_seq_done() check in the GP funnel).
    if (!poll_state_synchronize_rcu(cookie, domain)) rcu_gp(domain);
  } finally {
    gpMutexUnlock();
  }
}

// kernel/rcu/tree.c rcu_gp_init() .. rcu_gp_cleanup(), v6.6, with the wait of the era's flavour in
// between. Caller holds gp_mutex (one grace period at a time, whatever its domain).
function rcu_gp(domain: RcuDomain): void {
  const skip = rcuReaderSlot(cpuCtx.cpu);
  rcu_seq_start(gpSeq(domain));
  if (domain === RCU_SCHED_DOMAIN) rcuFlavour.rcu_sched_gp_wait(skip);
  else rcuFlavour.rcu_gp_wait(skip);
  atomicPoint('rcu_gp_cleanup:gp_seq'); // readers gone, the grace period not yet ended: cookies see it
  rcu_seq_end(gpSeq(domain));
  point('rcu_gp_end');
}

/**
 * Serializes grace periods (liburcu's rcu_gp_lock): a futex mutex (0 free, 1 locked, 2 locked with
 * sleepers) whose sleepers wait through the runner, since the holder waits for readers a long time.
 */
function gpMutexLock(): void {
  const i32 = mem.i32;
  const m = rcuState('gp_mutex');
  if (Atomics.compareExchange(i32, m, 0, 1) === 0) return;
  atomicPoint('gp_mutex:xchg'); // the holder may unlock between the failed CAS and the xchg
  while (Atomics.exchange(i32, m, 2) !== 0) cpuCtx.runner.wait(m, 2, GP_FUTEX_WAIT_MS);
}

function gpMutexUnlock(): void {
  const i32 = mem.i32;
  const m = rcuState('gp_mutex');
  if (Atomics.sub(i32, m, 1) !== 1) {
    atomicPoint('gp_mutex:unlock'); // still 1: a locker's xchg sees it held and sleeps
    Atomics.store(i32, m, 0);
    cpuCtx.runner.wake(m, 1);
  }
}
