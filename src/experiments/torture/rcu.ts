// mmrace's rcu torture type (locktorture.c has none; this follows its ops pattern, with the check
// of kernel/rcu/rcutorture.c in small): writers serialize on a spinlock, publish a new element with
// rcu_assign_pointer(), and after unlocking wait for a grace period with synchronize_rcu() before
// they free the element they replaced. Readers take rcu_read_lock(), rcu_dereference() the current
// element, and check when they leave that it was neither freed nor reused under them, which is
// what a grace period that ended too early would do. Readers do not exclude writers.
import { spin_is_locked, spin_lock, spin_lock_init, spin_unlock } from '../../kernel/locking/spinlock.js';
import { rcuReset } from '../../kernel/rcu/rcu.js';
import { synchronize_rcu } from '../../kernel/rcu/tree.js';
import {
  rcu_assign_pointer,
  rcu_dereference,
  rcu_dereference_protected,
  rcu_read_lock,
  rcu_read_unlock,
} from '../../kernel/rcu/update.js';
import { mem } from '../../shm/arena.js';
import { defineStatics } from '../../shm/statics.js';
import { cxt, type LockTortureOps, mdelay, type TortureRandomState, torture_random, udelay } from './ops.js';
import { torture_spin_lock_write_delay } from './spin_lock.js';

/** Elements: the published one, one retired per writer waiting for its grace period, the free. */
const NR_ELEMS = 64;
const E_WORDS = 4;
const E_LIVE = 0; // 1 while published or waiting for a grace period, 0 once freed
const E_GEN = 1; // which update published it; 0 once freed
const E_NEXT = 2; // free list link

const TORTURE_RCU = defineStatics('torture_rcu', [
  'lock[4]',
  'gp',
  'gen',
  'free',
  `elems[${NR_ELEMS * E_WORDS}]`,
]);
const L = TORTURE_RCU.layout;
const f = (field: 'lock' | 'gp' | 'gen' | 'free'): number => TORTURE_RCU.base() + L[field];
const elem = (i: number): number => TORTURE_RCU.base() + L.elems + i * E_WORDS;

/** The element this CPU's writer replaced, freed after the grace period. */
let retired = 0;
/** What this CPU's reader saw. */
let readerGen = 0;
let readerOk = true;

function free_elem(p: number): void {
  const i32 = mem.i32;
  Atomics.store(i32, p + E_NEXT, Atomics.load(i32, f('free')));
  Atomics.store(i32, f('free'), p);
}

function torture_rcu_init(): void {
  const i32 = mem.i32;
  rcuReset(); // no readers, no grace period in progress (kernelReset does it too)
  spin_lock_init(f('lock'));
  Atomics.store(i32, f('free'), 0);
  for (let i = NR_ELEMS - 1; i >= 1; i--) {
    Atomics.store(i32, elem(i) + E_LIVE, 0);
    Atomics.store(i32, elem(i) + E_GEN, 0);
    free_elem(elem(i));
  }
  Atomics.store(i32, elem(0) + E_LIVE, 1);
  Atomics.store(i32, elem(0) + E_GEN, 1);
  Atomics.store(i32, f('gen'), 1);
  Atomics.store(i32, f('gp'), elem(0));
}

function torture_rcu_write_lock(_tid: number): void {
  const i32 = mem.i32;
  spin_lock(f('lock'));
  const old = rcu_dereference_protected(f('gp'), spin_is_locked(f('lock')));
  const p = Atomics.load(i32, f('free'));
  if (!p) throw new Error('torture_rcu: element pool exhausted');
  Atomics.store(i32, f('free'), Atomics.load(i32, p + E_NEXT));
  const gen = (Atomics.load(i32, f('gen')) + 1) | 0 || 1;
  Atomics.store(i32, f('gen'), gen);
  Atomics.store(i32, p + E_GEN, gen);
  Atomics.store(i32, p + E_LIVE, 1);
  rcu_assign_pointer(f('gp'), p);
  retired = old;
}

function torture_rcu_write_unlock(_tid: number): void {
  const i32 = mem.i32;
  spin_unlock(f('lock'));
  // Readers that found `retired` before it was replaced may still be using it.
  synchronize_rcu();
  Atomics.store(i32, retired + E_LIVE, 0);
  Atomics.store(i32, retired + E_GEN, 0);
  spin_lock(f('lock'));
  free_elem(retired);
  spin_unlock(f('lock'));
  retired = 0;
}

function torture_rcu_read_lock(_tid: number): number {
  const i32 = mem.i32;
  rcu_read_lock();
  const p = rcu_dereference(f('gp'));
  readerGen = Atomics.load(i32, p + E_GEN);
  readerOk = Atomics.load(i32, p + E_LIVE) === 1 && readerGen !== 0;
  return p;
}

function torture_rcu_read_delay(trsp: TortureRandomState): void {
  const shortdelay_us = 2;
  const long_hold = cxt.long_hold;
  if (long_hold && !(torture_random(trsp) % (cxt.nrealreaders_stress * 2000 * long_hold))) mdelay(long_hold);
  else if (!(torture_random(trsp) % (cxt.nrealreaders_stress * 200 * shortdelay_us))) udelay(shortdelay_us);
}

function torture_rcu_read_unlock(_tid: number, p: number): void {
  const i32 = mem.i32;
  if (Atomics.load(i32, p + E_LIVE) !== 1 || Atomics.load(i32, p + E_GEN) !== readerGen) readerOk = false;
  rcu_read_unlock();
}

function torture_rcu_read_check(_tid: number): boolean {
  return readerOk;
}

export const rcu_ops: LockTortureOps = {
  init: torture_rcu_init,
  writelock: torture_rcu_write_lock,
  write_delay: torture_spin_lock_write_delay, // as locktorture's rw_lock type reuses it
  writeunlock: torture_rcu_write_unlock,
  readlock: torture_rcu_read_lock,
  read_delay: torture_rcu_read_delay,
  readunlock: torture_rcu_read_unlock,
  concurrent_readers: true,
  read_check: torture_rcu_read_check,
  name: 'rcu',
};
