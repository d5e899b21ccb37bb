// kernel/rcu/tree.c call_rcu(), rcu_do_batch(), rcu_barrier() and kernel/rcu/rcu_segcblist.c
// (v6.6): callbacks invoked after a grace period.
//
// A callback cannot be a JS closure in shared memory, so callback functions are registered by name
// at module load (defineRcuCallback) in every thread; a function's id is a hash of its name, so it
// is the same in every thread whatever the import order. call_rcu() queues a record (rcu_head
// pointer, callback id, get_state_synchronize_rcu() cookie) on one shared FIFO ring that stands for
// the per-CPU rcu_segcblist: since cookies are taken under the ring lock they never decrease along
// the ring, so the ready callbacks are always a prefix (the kernel's RCU_DONE_TAIL segment).
// Callbacks run one at a time, oldest first, under `invoke_lock` with preemption disabled, as from
// RCU_SOFTIRQ: from rcu_gp_kthread() or from rcu_barrier(). Serial FIFO invocation makes the
// `invoked` counter exact, which is what rcu_barrier() waits on.
import { atomicPoint, cpuCtx, point } from '../../cpu/context.js';
import { mem } from '../../shm/arena.js';
import { spin_lock, spin_unlock } from '../locking/spinlock.js';
import { check_kernel_pointer, die } from '../panic.js';
import { might_sleep, wake_up_process } from '../sched.js';
import {
  CB_COOKIE,
  CB_DOMAIN,
  CB_FUNC,
  CB_HEAD,
  RCU_CB_WORDS,
  RCU_CBLIST,
  RCU_CBLIST_CAPACITY,
  RCU_DOMAIN,
  RCU_SCHED_DOMAIN,
  type RcuDomain,
  rcuCblist,
  rcuReaderSlot,
  rcuState,
} from './rcu.js';
import { get_state_synchronize_rcu, poll_state_synchronize_rcu, rcuGpSync } from './tree.js';
import { rcu_read_lock_held } from './update.js';

/** A callback function: receives the rcu_head pointer passed to call_rcu(). Must not sleep. */
export type RcuCallbackFn = (head: number) => void;

interface RcuCallbackEntry {
  readonly name: string;
  readonly fn: RcuCallbackFn;
}

const registry = new Map<number, RcuCallbackEntry>();

function nameHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0 || 1;
}

/**
 * Registers `fn` as the RCU callback `name` and returns its id for call_rcu(). Call it at module
 * load, so that every CPU thread that imports the module knows the same callbacks.
 */
export function defineRcuCallback(name: string, fn: RcuCallbackFn): number {
  const id = nameHash(name);
  const had = registry.get(id);
  if (had) {
    throw new Error(
      had.name === name
        ? `RCU callback '${name}' is defined twice`
        : `RCU callback '${name}' hashes like '${had.name}': rename one`,
    );
  }
  registry.set(id, { name, fn });
  return id;
}

function record(seq: number): number {
  return RCU_CBLIST.base() + RCU_CBLIST.layout.rec + (seq & (RCU_CBLIST_CAPACITY - 1)) * RCU_CB_WORDS;
}

// kernel/rcu/tree.c call_rcu(), v6.6: queue `func(head)` to run after a full grace period. Never
// sleeps; may be called from any context, including a reader and another callback.
export function call_rcu(head: number, func: number): void {
  __call_rcu(head, func, RCU_DOMAIN);
}

// kernel/rcu/tree.c call_rcu_sched(), v4.14: after an RCU-sched grace period (every CPU that was
// preempt-disabled has left that region). From v4.20 the era's flavour makes that domain's grace
// periods wait like plain RCU's, as call_rcu_sched() became call_rcu().
export function call_rcu_sched(head: number, func: number): void {
  __call_rcu(head, func, RCU_SCHED_DOMAIN);
}

// kernel/rcu/tree.c __call_rcu(), v4.14. One ring holds both domains' callbacks: a ready callback
// behind a not-ready one of the other domain waits for it (later, never earlier, than its own
// grace period).
function __call_rcu(head: number, func: number, domain: RcuDomain): void {
  check_kernel_pointer(head, false);
  if (!registry.has(func)) throw new Error(`call_rcu: callback id ${func} is not registered on this CPU`);
  point('call_rcu');
  const i32 = mem.i32;
  const lock = rcuCblist('lock');
  for (;;) {
    spin_lock(lock);
    const enq = Atomics.load(i32, rcuCblist('enqueued'));
    if (((enq - Atomics.load(i32, rcuCblist('dequeued'))) | 0) < RCU_CBLIST_CAPACITY) {
      const r = record(enq);
      Atomics.store(i32, r + CB_HEAD, head);
      Atomics.store(i32, r + CB_FUNC, func);
      // Taken under the lock: each domain's cookies are non-decreasing along the ring.
      Atomics.store(i32, r + CB_COOKIE, get_state_synchronize_rcu(domain));
      Atomics.store(i32, r + CB_DOMAIN, domain);
      // A grace period may end after the cookie was taken and before the record is published.
      atomicPoint('__call_rcu:enqueued');
      Atomics.store(i32, rcuCblist('enqueued'), (enq + 1) | 0);
      spin_unlock(lock);
      break;
    }
    spin_unlock(lock);
    rcuCblistOverflow();
  }
  // rcu_gp_kthread_wake(): a sleeping GP kthread has work now.
  const k = Atomics.load(i32, rcuState('gp_kthread'));
  if (k !== 0) wake_up_process(k);
}

/**
 * The ring is full. Tree RCU never refuses a callback: under a callback flood it forces quiescent
 * states and invokes callbacks from the enqueuing CPU. Here the enqueuing CPU invokes what is ready
 * and, if nothing is, drives a grace period for the oldest callback itself. Impossible (a kernel
 * would deadlock or OOM) from inside a reader, or from a callback while the ring has no room.
 */
function rcuCblistOverflow(): void {
  const i32 = mem.i32;
  if (Atomics.load(i32, rcuCblist('invoker')) === rcuReaderSlot(cpuCtx.cpu) + 1)
    die(`BUG: call_rcu() from an RCU callback with ${RCU_CBLIST_CAPACITY} callbacks queued`);
  if (rcu_do_batch() > 0) return;
  if (rcu_read_lock_held())
    die(`BUG: call_rcu() in an RCU read-side critical section with ${RCU_CBLIST_CAPACITY} callbacks queued`);
  const oldest = rcuOldestCallback();
  if (oldest) rcuGpSync(oldest.cookie, oldest.domain);
  rcu_do_batch();
}

/** The grace period the oldest queued callback waits for, or null when none is queued. */
export function rcuOldestCallback(): { cookie: number; domain: RcuDomain } | null {
  const i32 = mem.i32;
  const lock = rcuCblist('lock');
  spin_lock(lock);
  const deq = Atomics.load(i32, rcuCblist('dequeued'));
  const r = record(deq);
  const oldest =
    deq === Atomics.load(i32, rcuCblist('enqueued'))
      ? null
      : { cookie: Atomics.load(i32, r + CB_COOKIE), domain: Atomics.load(i32, r + CB_DOMAIN) as RcuDomain };
  spin_unlock(lock);
  return oldest;
}

// kernel/rcu/tree.c rcu_do_batch(), v6.6: invoke, oldest first, every queued callback whose grace
// period has ended. Returns how many ran.
export function rcu_do_batch(): number {
  const i32 = mem.i32;
  const lock = rcuCblist('lock');
  const invokeLock = rcuCblist('invoke_lock');
  const invoker = rcuCblist('invoker');
  spin_lock(invokeLock);
  Atomics.store(i32, invoker, rcuReaderSlot(cpuCtx.cpu) + 1);
  let count = 0;
  try {
    for (;;) {
      spin_lock(lock);
      const deq = Atomics.load(i32, rcuCblist('dequeued'));
      if (deq === Atomics.load(i32, rcuCblist('enqueued'))) {
        spin_unlock(lock);
        break;
      }
      const r = record(deq);
      if (
        !poll_state_synchronize_rcu(
          Atomics.load(i32, r + CB_COOKIE),
          Atomics.load(i32, r + CB_DOMAIN) as RcuDomain,
        )
      ) {
        spin_unlock(lock);
        break;
      }
      const head = Atomics.load(i32, r + CB_HEAD);
      const func = Atomics.load(i32, r + CB_FUNC);
      Atomics.store(i32, rcuCblist('dequeued'), (deq + 1) | 0);
      spin_unlock(lock);
      point('rcu_do_batch');
      const cb = registry.get(func);
      if (!cb) throw new Error(`rcu_do_batch: callback id ${func} is not registered on this CPU`);
      cb.fn(head);
      atomicPoint('rcu_do_batch:invoked'); // the callback has run, rcu_barrier() does not know yet
      Atomics.add(i32, rcuCblist('invoked'), 1);
      count++;
    }
  } finally {
    Atomics.store(i32, invoker, 0);
    spin_unlock(invokeLock);
  }
  return count;
}

// kernel/rcu/tree.c rcu_barrier(), v6.6: wait until every callback queued before the call has run.
export function rcu_barrier(): void {
  might_sleep('kernel/rcu/tree.c:rcu_barrier');
  point('rcu_barrier');
  const i32 = mem.i32;
  const snap = Atomics.load(i32, rcuCblist('enqueued'));
  atomicPoint('rcu_barrier:invoked'); // a callback may return between the two loads
  // Invocation is serial and FIFO, so `invoked` reaching `snap` means every earlier callback ran.
  while (((Atomics.load(i32, rcuCblist('invoked')) - snap) | 0) < 0) {
    // The oldest callback's grace period (of either domain); none queued: another CPU is invoking
    // the last ones, and rcu_do_batch() waits for it on invoke_lock.
    const oldest = rcuOldestCallback();
    if (oldest) rcuGpSync(oldest.cookie, oldest.domain);
    rcu_do_batch();
  }
}

/** Callbacks queued and not yet returned. */
export function rcuCallbacksPending(): number {
  const i32 = mem.i32;
  return (Atomics.load(i32, rcuCblist('enqueued')) - Atomics.load(i32, rcuCblist('invoked'))) | 0;
}

/** Callbacks that have run since the last reset. */
export function rcuCallbacksInvoked(): number {
  return Atomics.load(mem.i32, rcuCblist('invoked'));
}
