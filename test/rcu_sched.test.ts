// Preemption and RCU-sched on the boot CPU: the preempt count of each CPU is an arena word, a
// preempt-disabled region (a spinlock held, rcu_read_lock_sched()) is an RCU-sched reader, and
// what a grace period waits for depends on the era's flavours: before v4.20 synchronize_sched()
// waits for preempt-disabled regions and synchronize_rcu() does not; from v4.20 synchronize_rcu()
// waits for both. Other CPUs are played by the script of a ScriptRunner (helpers/script_runner.ts).
// Each mechanism also runs against a seeded defect (a grace period that ignores preempt counts),
// which the same observation must catch. Real threads: rcu_sched_workers.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { BOOT_CPU, cpuCtx, PREEMPT_NEED_RESCHED, preemptCountWord } from '../src/cpu/context.js';
import { BootRunner } from '../src/cpu/free.js';
import { eraByName } from '../src/eras/index.js';
import { spin_lock, spin_lock_init, spin_trylock, spin_unlock } from '../src/kernel/locking/spinlock.js';
import { preempt_count, preempt_disable, preempt_enable } from '../src/kernel/preempt.js';
import {
  call_rcu_sched,
  defineRcuCallback,
  rcu_barrier,
  rcuCallbacksPending,
} from '../src/kernel/rcu/callbacks.js';
import {
  RCU_FLAVOURS_V4_14,
  RCU_FLAVOURS_V4_20,
  type RcuFlavourOps,
  rcuFlavour,
} from '../src/kernel/rcu/flavour.js';
import { RCU_SCHED_DOMAIN, RCU_SEQ_INIT } from '../src/kernel/rcu/rcu.js';
import { rcuGpSeq, synchronize_rcu, synchronize_sched } from '../src/kernel/rcu/tree.js';
import {
  rcu_read_lock,
  rcu_read_lock_sched,
  rcu_read_unlock,
  rcu_read_unlock_sched,
} from '../src/kernel/rcu/update.js';
import { kmem_cache_alloc, kmem_cache_create } from '../src/mm/slab.js';
import { mem } from '../src/shm/arena.js';
import { boot, reports } from './helpers/boot.js';
import { onCpu, ScriptRunner } from './helpers/script_runner.js';

const lockCache = kmem_cache_create('rcu_sched_test_lock', 2, 8);
const ran: number[] = [];
const RECORD = defineRcuCallback('rcu_sched_test_record', (head) => {
  ran.push(head);
});

/** A grace period of the RCU-sched domain that does not wait for preempt-disabled CPUs. */
const BROKEN_SCHED: RcuFlavourOps = { ...RCU_FLAVOURS_V4_14, rcu_sched_gp_wait: () => {} };
/** A v4.20 synchronize_rcu() that still waits only for rcu_read_lock() sections. */
const BROKEN_V4_20: RcuFlavourOps = { ...RCU_FLAVOURS_V4_20, rcu_gp_wait: RCU_FLAVOURS_V4_14.rcu_gp_wait };

function setup(era: string, flavours?: RcuFlavourOps): { dmesg: () => string[]; lock: number } {
  const m = boot(era);
  if (flavours) Object.assign(rcuFlavour, flavours);
  ran.length = 0;
  const lock = kmem_cache_alloc(lockCache, 'rcu_sched_test');
  spin_lock_init(lock);
  return { ...m, lock };
}

afterEach(() => {
  cpuCtx.cpu = BOOT_CPU;
  cpuCtx.runner = new BootRunner();
  cpuCtx.preemptCount = 0;
});

const gpsSched = (): number => ((rcuGpSeq(RCU_SCHED_DOMAIN) - RCU_SEQ_INIT) | 0) / 4;
const gpsRcu = (): number => ((rcuGpSeq() - RCU_SEQ_INIT) | 0) / 4;

/**
 * CPU 3 holds `lock` when the grace period `gp` starts and releases it at the script's event
 * `releaseAt` (if the grace period is still running then). Returns whether `gp` returned while
 * CPU 3 was still inside, and the runner's events.
 */
function gpAgainstHolder(
  lock: number,
  gp: () => void,
  releaseAt = 300,
): { returnedInside: boolean; runner: ScriptRunner } {
  onCpu(3, () => spin_lock(lock));
  let inside = true;
  const runner = new ScriptRunner((_ev, n) => {
    if (n === releaseAt && inside) {
      onCpu(3, () => spin_unlock(lock));
      inside = false;
    }
  });
  cpuCtx.runner = runner;
  gp();
  cpuCtx.runner = new BootRunner();
  const returnedInside = inside;
  if (inside) onCpu(3, () => spin_unlock(lock));
  return { returnedInside, runner };
}

describe('the preempt count in the arena', () => {
  it('spin_lock, rcu_read_lock_sched and preempt_disable count on the CPU that runs them; other CPUs see it', () => {
    const { dmesg, lock } = setup('v4.14');
    onCpu(3, () => {
      spin_lock(lock);
      rcu_read_lock_sched();
      preempt_disable();
    });
    expect(preempt_count(3)).toBe(3);
    expect(preempt_count(BOOT_CPU)).toBe(0);
    expect(Atomics.load(mem.i32, preemptCountWord(3))).toBe(3);
    onCpu(3, () => {
      preempt_enable();
      rcu_read_unlock_sched();
      spin_unlock(lock);
    });
    expect(preempt_count(3)).toBe(0);
    expect(reports(dmesg())).toEqual([]);
  });

  it('a failed spin_trylock leaves the count as it was', () => {
    const { lock } = setup('v4.14');
    onCpu(3, () => spin_lock(lock));
    expect(spin_trylock(lock)).toBe(false);
    expect(preempt_count(BOOT_CPU)).toBe(0);
    onCpu(3, () => spin_unlock(lock));
    expect(spin_trylock(lock)).toBe(true);
    expect(cpuCtx.preemptCount).toBe(1);
    spin_unlock(lock);
    expect(cpuCtx.preemptCount).toBe(0);
  });

  it('the outermost preempt_enable() with a resched pending clears it and wakes the word', () => {
    setup('v4.14');
    const runner = new ScriptRunner(() => {});
    cpuCtx.runner = runner;
    const w = preemptCountWord(BOOT_CPU);
    preempt_disable();
    preempt_disable();
    Atomics.or(mem.i32, w, PREEMPT_NEED_RESCHED); // resched_cpu() by a grace period
    preempt_enable();
    expect(runner.woken).toEqual([]);
    expect(Atomics.load(mem.i32, w)).toBe(PREEMPT_NEED_RESCHED | 1);
    preempt_enable();
    expect(runner.woken).toEqual([w]);
    expect(Atomics.load(mem.i32, w)).toBe(0);
  });
});

describe('before v4.20 (v4.14): two flavours', () => {
  it('synchronize_sched() waits for a CPU that holds a spinlock until it unlocks', () => {
    const { dmesg, lock } = setup('v4.14');
    const { returnedInside, runner } = gpAgainstHolder(lock, synchronize_sched);
    expect(returnedInside).toBe(false);
    expect(runner.events.length).toBeGreaterThan(300);
    // It polled, then slept on the holder's preempt count word.
    expect(runner.events).toContain('rcu_sched_wait');
    expect(runner.events).toContain('wait');
    expect(gpsSched()).toBe(1);
    expect(gpsRcu()).toBe(0);
    expect(reports(dmesg())).toEqual([]);
  });

  it('a synchronize_sched() that ignores preempt counts is caught by the same check', () => {
    const { lock } = setup('v4.14', BROKEN_SCHED);
    expect(gpAgainstHolder(lock, synchronize_sched).returnedInside).toBe(true);
  });

  it('synchronize_sched() waits for rcu_read_lock_sched() and bare preempt_disable() too', () => {
    setup('v4.14');
    onCpu(2, () => rcu_read_lock_sched());
    onCpu(5, () => preempt_disable());
    const left: number[] = [];
    cpuCtx.runner = new ScriptRunner((_ev, n) => {
      if (n === 100) onCpu(2, () => rcu_read_unlock_sched());
      if (n === 100) left.push(2);
      if (n === 200) onCpu(5, () => preempt_enable());
      if (n === 200) left.push(5);
    });
    synchronize_sched();
    expect(left).toEqual([2, 5]);
  });

  it('synchronize_sched() does not wait for a region entered after it looked at that CPU', () => {
    const { lock } = setup('v4.14');
    onCpu(3, () => spin_lock(lock));
    let late = false;
    cpuCtx.runner = new ScriptRunner((ev, n) => {
      // CPU 2 was quiescent when scanned; it now enters a region it never leaves.
      if (ev === 'rcu_sched_wait' && !late) {
        late = true;
        onCpu(2, () => preempt_disable());
      }
      if (n === 50) onCpu(3, () => spin_unlock(lock));
    });
    synchronize_sched();
    expect(late).toBe(true);
    expect(preempt_count(2)).toBe(1);
    expect(preempt_count(3)).toBe(0);
  });

  it('plain synchronize_rcu() does not wait for a spinlock holder (rcu_read_lock() sections only)', () => {
    const { lock } = setup('v4.14');
    const { returnedInside, runner } = gpAgainstHolder(lock, synchronize_rcu);
    expect(returnedInside).toBe(true);
    expect(runner.events).not.toContain('rcu_sched_wait');
    expect(gpsRcu()).toBe(1);
    expect(gpsSched()).toBe(0);
  });

  it('v4.14 and v4.15 run the pre-v4.20 flavours', () => {
    expect(eraByName('v4.14')?.rcu).toBe(RCU_FLAVOURS_V4_14);
    expect(eraByName('v4.15')?.rcu).toBe(RCU_FLAVOURS_V4_14);
  });

  it('call_rcu_sched() callbacks wait for the spinlock holder; rcu_barrier() runs them after', () => {
    const { lock } = setup('v4.14');
    onCpu(3, () => spin_lock(lock));
    call_rcu_sched(lock, RECORD);
    let ranWhileHeld = false;
    let inside = true;
    cpuCtx.runner = new ScriptRunner((_ev, n) => {
      if (inside && ran.length > 0) ranWhileHeld = true;
      if (n === 200) {
        onCpu(3, () => spin_unlock(lock));
        inside = false;
      }
    });
    rcu_barrier();
    expect(ranWhileHeld).toBe(false);
    expect(inside).toBe(false);
    expect(ran).toEqual([lock]);
    expect(rcuCallbacksPending()).toBe(0);
  });
});

describe('from v4.20: one flavour', () => {
  it('synchronize_rcu() waits for a CPU that holds a spinlock until it unlocks', () => {
    const { lock } = setup('v4.15', RCU_FLAVOURS_V4_20);
    const { returnedInside, runner } = gpAgainstHolder(lock, synchronize_rcu);
    expect(returnedInside).toBe(false);
    expect(runner.events).toContain('rcu_sched_wait');
    expect(gpsRcu()).toBe(1);
  });

  it('a v4.20 synchronize_rcu() that waits for rcu_read_lock() only is caught by the same check', () => {
    const { lock } = setup('v4.15', BROKEN_V4_20);
    expect(gpAgainstHolder(lock, synchronize_rcu).returnedInside).toBe(true);
  });

  it('synchronize_sched() is synchronize_rcu(): it waits for rcu_read_lock() sections too', () => {
    setup('v4.15', RCU_FLAVOURS_V4_20);
    // An rcu_read_lock() reader (seen by its reader word; its preempt count is up as well).
    onCpu(4, () => rcu_read_lock());
    let left = false;
    cpuCtx.runner = new ScriptRunner((_ev, n) => {
      if (n === 150) {
        onCpu(4, () => rcu_read_unlock());
        left = true;
      }
    });
    synchronize_sched();
    expect(left).toBe(true);
  });
});
