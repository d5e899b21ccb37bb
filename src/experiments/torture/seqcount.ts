// mmrace's seqcount torture type (locktorture.c has none; this follows its ops pattern). Writers
// serialize on a spinlock and bump a seqcount_spinlock_t around a two-word update (data[0] is
// written right after write_seqcount_begin(), data[1] right before write_seqcount_end(), so the
// pair is torn for the whole write section). Readers do not exclude writers: a read section
// stands only when read_seqcount_retry() says so, and a section that stands must have seen no
// writer (lock_is_write_held) and an untorn pair.

import {
  read_seqcount_begin,
  read_seqcount_retry,
  seqcount_init,
  write_seqcount_begin,
  write_seqcount_end,
} from '../../kernel/locking/seqlock.js';
import { spin_lock, spin_lock_init, spin_unlock } from '../../kernel/locking/spinlock.js';
import { mem } from '../../shm/arena.js';
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
import { torture_spin_lock_write_delay } from './spin_lock.js';

// static DEFINE_SPINLOCK(torture_seq_lock); static seqcount_spinlock_t torture_seq; and the data.
const TORTURE_SEQ = defineStatics('torture_seqcount', ['lock[4]', 'seq', 'data[2]']);
const base = (): number => TORTURE_SEQ.base();
const L = TORTURE_SEQ.layout;

/** What this CPU's reader saw of the pair in its current section. */
let seen0 = 0;
let seen1 = 0;

function torture_seqcount_init(): void {
  spin_lock_init(base() + L.lock);
  seqcount_init(base() + L.seq);
  Atomics.store(mem.i32, base() + L.data, 0);
  Atomics.store(mem.i32, base() + L.data + 1, 0);
}

function torture_seqcount_write_lock(_tid: number): void {
  const b = base();
  spin_lock(b + L.lock);
  write_seqcount_begin(b + L.seq, b + L.lock);
  Atomics.store(mem.i32, b + L.data, (Atomics.load(mem.i32, b + L.data) + 1) | 0);
}

function torture_seqcount_write_unlock(_tid: number): void {
  const b = base();
  Atomics.store(mem.i32, b + L.data + 1, Atomics.load(mem.i32, b + L.data));
  write_seqcount_end(b + L.seq, b + L.lock);
  spin_unlock(b + L.lock);
}

function torture_seqcount_read_lock(_tid: number): number {
  const b = base();
  const seq = read_seqcount_begin(b + L.seq);
  seen0 = Atomics.load(mem.i32, b + L.data);
  return seq;
}

function torture_seqcount_read_delay(trsp: TortureRandomState): void {
  const shortdelay_us = 2;
  const long_hold = cxt.long_hold;
  if (long_hold && !(torture_random(trsp) % (cxt.nrealreaders_stress * 2000 * long_hold))) mdelay(long_hold);
  else if (!(torture_random(trsp) % (cxt.nrealreaders_stress * 200 * shortdelay_us))) udelay(shortdelay_us);
  if (!(torture_random(trsp) % (cxt.nrealreaders_stress * 20000))) torture_preempt_schedule();
}

function torture_seqcount_read_unlock(_tid: number, _seq: number): void {
  seen1 = Atomics.load(mem.i32, base() + L.data + 1);
}

function torture_seqcount_read_retry(_tid: number, seq: number): boolean {
  return read_seqcount_retry(base() + L.seq, seq);
}

function torture_seqcount_read_check(_tid: number): boolean {
  return seen0 === seen1;
}

export const seqcount_ops: LockTortureOps = {
  init: torture_seqcount_init,
  writelock: torture_seqcount_write_lock,
  write_delay: torture_spin_lock_write_delay, // as locktorture's rw_lock type reuses it
  writeunlock: torture_seqcount_write_unlock,
  readlock: torture_seqcount_read_lock,
  read_delay: torture_seqcount_read_delay,
  readunlock: torture_seqcount_read_unlock,
  concurrent_readers: true,
  read_retry: torture_seqcount_read_retry,
  read_check: torture_seqcount_read_check,
  name: 'seqcount',
};
