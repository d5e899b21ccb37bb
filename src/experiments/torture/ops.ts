// kernel/locking/locktorture.c @00c24c9cfa78: the operations vector every torture type fills in
// (struct lock_torture_ops), the module parameters and context the ops read (long_hold, cxt), and
// the kernel/torture.c helpers they call (torture_random, torture_preempt_schedule) with the
// delay primitives (include/linux/delay.h mdelay/udelay).
import { timeScale } from '../../cpu/clock.js';
import { cpuCtx, point } from '../../cpu/context.js';
import { runStopRequested } from '../../cpu/control.js';

/** kernel/locking/locktorture.c struct lock_torture_ops, without nested locks and rt-boost. */
export interface LockTortureOps {
  readonly name: string;
  /**
   * Main thread, before the CPUs start: give the lock its initial state (the kernel's
   * DEFINE_SPINLOCK()/DECLARE_RWSEM() static initialisers, plus ops->init where there is one).
   */
  init(): void;
  writelock(tid: number): void;
  write_delay(trsp: TortureRandomState): void;
  writeunlock(tid: number): void;
  /** null for exclusive locks: no reader threads are created. Returns what read_retry needs. */
  readlock: ((tid: number) => number) | null;
  read_delay: ((trsp: TortureRandomState) => void) | null;
  readunlock: ((tid: number, cookie: number) => void) | null;
  /**
   * mmrace extension: readers do not exclude writers (seqcount, rcu). Writers then skip the
   * lock_is_read_held check and readers the kernel's lock_is_write_held check.
   */
  readonly concurrent_readers?: boolean;
  /**
   * mmrace extension (seqcount): after readunlock, whether the read section must be redone
   * (read_seqcount_retry()). A section that stands must not have overlapped a writer.
   */
  read_retry?: (tid: number, cookie: number) => boolean;
  /** mmrace extension: after a read section that stands, whether what it read was consistent. */
  read_check?: (tid: number) => boolean;
}

/** The module parameters and the struct lock_torture_cxt fields that the ops read. */
export const cxt = {
  nrealwriters_stress: 0,
  nrealreaders_stress: 0,
  /** torture_param(int, long_hold, 100, "Do occasional long hold of lock (ms), 0=disable") */
  long_hold: 0,
};

// include/linux/torture.h / kernel/torture.c: a per-thread linear congruential generator.
const TORTURE_RANDOM_MULT = 39916801; // prime
const TORTURE_RANDOM_ADD = 479001701; // prime
const TORTURE_RANDOM_REFRESH = 10000;

export interface TortureRandomState {
  trs_state: number;
  trs_count: number;
}

// include/linux/torture.h DEFINE_TORTURE_RANDOM()
export function DEFINE_TORTURE_RANDOM(): TortureRandomState {
  return { trs_state: 0, trs_count: 0 };
}

// kernel/torture.c torture_random(): unsigned long on a 32-bit kernel.
export function torture_random(trsp: TortureRandomState): number {
  if (--trsp.trs_count < 0) {
    // local_clock() + raw_smp_processor_id()
    trsp.trs_state = (trsp.trs_state + Math.floor(performance.now() * 1e6) + cpuCtx.cpu) >>> 0;
    trsp.trs_count = TORTURE_RANDOM_REFRESH;
  }
  const s = (Math.imul(trsp.trs_state, TORTURE_RANDOM_MULT) + TORTURE_RANDOM_ADD) >>> 0;
  trsp.trs_state = s;
  return ((s << 16) | (s >>> 16)) >>> 0; // swahw32()
}

const parkWord = new Int32Array(new SharedArrayBuffer(4));

// include/linux/delay.h mdelay(): a busy delay of `ms` emulated milliseconds. The CPU does
// nothing else meanwhile either way, so the worker gives its host core away while it lasts.
export function mdelay(ms: number): void {
  if (ms <= 0) return;
  const until = performance.now() + ms / timeScale();
  for (let left = ms / timeScale(); left > 0; left = until - performance.now()) {
    Atomics.wait(parkWord, 0, 0, left);
  }
}

// include/linux/delay.h udelay(): short enough to spin on the host clock.
export function udelay(us: number): void {
  const until = performance.now() + us / 1000 / timeScale();
  while (performance.now() < until) {}
}

// include/linux/torture.h torture_preempt_schedule(): preempt_schedule(), which does nothing
// while preemption is disabled (a spinlock held); otherwise let another task have the host core.
export function torture_preempt_schedule(): void {
  point('torture_preempt_schedule');
  if (cpuCtx.preemptCount === 0) Atomics.wait(parkWord, 0, 0, 0.02);
}

// kernel/torture.c torture_must_stop(): the main thread asked the run to end.
export function torture_must_stop(): boolean {
  return runStopRequested();
}
