// RCU on the boot CPU: the read side, grace periods, the polled API, callbacks, kfree_rcu, the GP
// kthread's drain loop, and SLAB_TYPESAFE_BY_RCU caches. Other CPUs' readers are played by
// switching cpuCtx.cpu, and a scripted runner lets them enter or leave their sections while
// synchronize_rcu() polls, so "waits for pre-existing readers, not for later ones" is tested
// deterministically on one thread. Real concurrency is in rcu_workers.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { BOOT_CPU, cpuCtx } from '../src/cpu/context.js';
import { BootRunner } from '../src/cpu/free.js';
import { spawnTask } from '../src/kernel/fork.js';
import { kthread_stop } from '../src/kernel/kthread.js';
import {
  call_rcu,
  defineRcuCallback,
  rcu_barrier,
  rcu_do_batch,
  rcuCallbacksInvoked,
  rcuCallbacksPending,
} from '../src/kernel/rcu/callbacks.js';
import { rcu_gp_kthread } from '../src/kernel/rcu/gp_kthread.js';
import {
  RCU_GET_STATE_COMPLETED,
  RCU_SEQ_INIT,
  rcuReaderSlot,
  rcuReaderWord,
  rcuState,
  URCU_GP_CTR_PHASE,
} from '../src/kernel/rcu/rcu.js';
import {
  cond_synchronize_rcu,
  get_state_synchronize_rcu,
  poll_state_synchronize_rcu,
  rcuGpSeq,
  synchronize_rcu,
} from '../src/kernel/rcu/tree.js';
import {
  rcu_assign_pointer,
  rcu_dereference,
  rcu_read_lock,
  rcu_read_lock_held,
  rcu_read_unlock,
  rcuReadLockNesting,
} from '../src/kernel/rcu/update.js';
import { kasanReports, kread, kwrite } from '../src/mm/kasan.js';
import {
  kfree_rcu,
  kmem_cache_alloc,
  kmem_cache_create,
  kmem_cache_free,
  kmem_cache_live,
  POISON_FREE,
  SLAB_TYPESAFE_BY_RCU,
  slab_is_live,
} from '../src/mm/slab.js';
import { mem } from '../src/shm/arena.js';
import { boot, reports } from './helpers/boot.js';
import { onCpu, ScriptRunner } from './helpers/script_runner.js';

// Caches are part of the machine's layout: created before boot() builds the machine.
const OBJ_WORDS = 4;
const plainCache = kmem_cache_create('rcu_test_plain', OBJ_WORDS, 8);
const CTOR_MARK = 0x5a5a;
const typesafeCache = kmem_cache_create('rcu_test_typesafe', OBJ_WORDS, 4, SLAB_TYPESAFE_BY_RCU, (obj) => {
  mem.i32[obj + 3] = CTOR_MARK; // e.g. an embedded lock, initialised once per slab
});

const ran: number[] = [];
const RECORD = defineRcuCallback('rcu_test_record', (head) => {
  ran.push(head);
});
const CHAIN = defineRcuCallback('rcu_test_chain', (head) => {
  ran.push(head);
  call_rcu(head + 1, RECORD);
});

/** The offset of a gp_seq value from the boot value, in grace periods. */
function gpsSinceBoot(): number {
  return ((rcuGpSeq() - RCU_SEQ_INIT) | 0) / 4;
}

function setup(): { dmesg: () => string[] } {
  const m = boot();
  ran.length = 0;
  cpuCtx.cpu = BOOT_CPU;
  cpuCtx.runner = new BootRunner();
  return m;
}

afterEach(() => {
  cpuCtx.cpu = BOOT_CPU;
  cpuCtx.runner = new BootRunner();
  cpuCtx.preemptCount = 0;
});

describe('rcu_read_lock / rcu_read_unlock', () => {
  it('nest: the word counts the depth, the outermost lock copies the phase, preemption is off inside', () => {
    const { dmesg } = setup();
    const word = rcuReaderWord(rcuReaderSlot(BOOT_CPU));
    const gpCtr = Atomics.load(mem.i32, rcuState('gp_ctr'));
    expect(rcu_read_lock_held()).toBe(false);
    rcu_read_lock();
    expect(Atomics.load(mem.i32, word)).toBe(gpCtr);
    rcu_read_lock();
    rcu_read_lock();
    expect(rcuReadLockNesting()).toBe(3);
    expect(cpuCtx.preemptCount).toBe(3);
    expect(rcu_read_lock_held()).toBe(true);
    rcu_read_unlock();
    rcu_read_unlock();
    expect(rcuReadLockNesting()).toBe(1);
    rcu_read_unlock();
    expect(rcuReadLockNesting()).toBe(0);
    expect(cpuCtx.preemptCount).toBe(0);
    expect(rcu_read_lock_held()).toBe(false);
    expect(reports(dmesg())).toEqual([]);
  });

  it('keeps one word per CPU', () => {
    setup();
    onCpu(2, () => {
      rcu_read_lock();
      rcu_read_lock();
    });
    expect(rcuReadLockNesting(2)).toBe(2);
    expect(rcuReadLockNesting(BOOT_CPU)).toBe(0);
    expect(rcu_read_lock_held()).toBe(false);
  });

  it('warns about an unlock without a lock and leaves the word alone', () => {
    const { dmesg } = setup();
    rcu_read_unlock();
    expect(rcuReadLockNesting()).toBe(0);
    expect(cpuCtx.preemptCount).toBe(0);
    expect(reports(dmesg())[0]).toMatch(/^WARNING: CPU: -1 PID: \d+ at kernel\/rcu\/update.c/);
  });

  it('reports rcu_dereference() outside a reader as suspicious RCU usage, once per run', () => {
    const { dmesg } = setup();
    const p = kmem_cache_alloc(plainCache, 'rcu_test');
    rcu_assign_pointer(p, 1234);
    rcu_read_lock();
    expect(rcu_dereference(p)).toBe(1234);
    rcu_read_unlock();
    expect(dmesg()).toEqual([]);
    expect(rcu_dereference(p)).toBe(1234);
    rcu_dereference(p);
    const lines = dmesg();
    expect(lines.filter((l) => l === 'WARNING: suspicious RCU usage')).toHaveLength(1);
    expect(lines).toContain(
      'include/linux/rcupdate.h:rcu_dereference suspicious rcu_dereference_check() usage!',
    );
  });

  it('reports sleeping inside a reader (rcu_read_lock disables preemption)', () => {
    const { dmesg } = setup();
    rcu_read_lock();
    synchronize_rcu(); // the kernel would deadlock; the emulator reports and does not wait for itself
    rcu_read_unlock();
    const lines = dmesg();
    expect(reports(lines)).toContain(
      'BUG: sleeping function called from invalid context at kernel/rcu/tree.c:synchronize_rcu',
    );
    expect(lines).toContain(
      'kernel/rcu/tree.c:synchronize_rcu Illegal synchronize_rcu() in RCU read-side critical section',
    );
  });
});

describe('synchronize_rcu', () => {
  it('returns with no readers, after exactly one grace period, leaving the phase where it was', () => {
    const { dmesg } = setup();
    const gpCtr = Atomics.load(mem.i32, rcuState('gp_ctr'));
    expect(gpsSinceBoot()).toBe(0);
    synchronize_rcu();
    expect(gpsSinceBoot()).toBe(1);
    synchronize_rcu();
    expect(gpsSinceBoot()).toBe(2);
    expect(Atomics.load(mem.i32, rcuState('gp_ctr'))).toBe(gpCtr);
    expect(Atomics.load(mem.i32, rcuState('gp_mutex'))).toBe(0);
    expect(reports(dmesg())).toEqual([]);
  });

  it('does not return while a reader that began before it is still inside', () => {
    setup();
    onCpu(3, () => rcu_read_lock());
    let exitedAt = -1;
    const runner = new ScriptRunner((_ev, n) => {
      if (n === 300) {
        onCpu(3, () => rcu_read_unlock());
        exitedAt = n;
      }
    });
    cpuCtx.runner = runner;
    synchronize_rcu();
    expect(exitedAt).toBe(300);
    expect(runner.events.length).toBeGreaterThan(300);
    // It polled, then slept on gp_futex (RCU_QS_ACTIVE_ATTEMPTS polls first).
    expect(runner.events.filter((e) => e === 'relax').length).toBeGreaterThanOrEqual(99);
    expect(runner.events).toContain('wait');
    expect(gpsSinceBoot()).toBe(1);
    expect(Atomics.load(mem.i32, rcuState('gp_futex'))).toBe(0);
  });

  it('waits for a nested reader until its outermost unlock', () => {
    setup();
    onCpu(4, () => {
      rcu_read_lock();
      rcu_read_lock();
    });
    const runner = new ScriptRunner((_ev, n) => {
      if (n === 20) onCpu(4, () => rcu_read_unlock());
      if (n === 40) {
        expect(rcuReadLockNesting(4)).toBe(1);
        onCpu(4, () => rcu_read_unlock());
      }
    });
    cpuCtx.runner = runner;
    synchronize_rcu();
    expect(runner.events.length).toBeGreaterThan(40);
    expect(rcuReadLockNesting(4)).toBe(0);
  });

  it('does not wait for a reader that began after it, even one that never leaves', () => {
    setup();
    onCpu(3, () => rcu_read_lock()); // pre-existing
    let flips = 0;
    let lateStarted = false;
    let betweenFlipsExited = false;
    const runner = new ScriptRunner((ev, n) => {
      if (ev === 'rcu_gp_flip') flips++;
      // A reader that starts between the flips is waited for by the second phase, until it leaves.
      if (flips === 1 && n === 50) onCpu(5, () => rcu_read_lock());
      if (flips === 1 && n === 150) onCpu(3, () => rcu_read_unlock());
      if (flips === 2 && ev !== 'rcu_gp_flip' && !lateStarted) {
        // Starts after the second flip (the point comes just before it) and never leaves.
        lateStarted = true;
        onCpu(6, () => rcu_read_lock());
      }
      if (flips === 2 && n === 400) {
        onCpu(5, () => rcu_read_unlock());
        betweenFlipsExited = true;
      }
    });
    cpuCtx.runner = runner;
    synchronize_rcu();
    expect(lateStarted).toBe(true);
    expect(betweenFlipsExited).toBe(true);
    expect(rcuReadLockNesting(6)).toBe(1);
    expect(gpsSinceBoot()).toBe(1);
    // The late reader also does not delay the next grace period beyond its own end.
    let left = false;
    cpuCtx.runner = new ScriptRunner((_ev, n) => {
      if (n === 100) {
        onCpu(6, () => rcu_read_unlock());
        left = true;
      }
    });
    synchronize_rcu();
    expect(left).toBe(true);
  });
});

describe('the two phases of a grace period', () => {
  it('a reader delayed between reading gp_ctr and publishing it is waited for by the next grace period', () => {
    setup();
    // CPU5 enters rcu_read_lock(): it has read gp_ctr when a whole grace period runs on CPU1
    // (the reader is not visible yet, so that one need not wait); then it publishes the phase it
    // read before that grace period. With a single flip per grace period that phase would look
    // current to the next grace period, which would not wait for this reader.
    let gp1 = false;
    cpuCtx.runner = new ScriptRunner((ev) => {
      if (ev === 'rcu_read_lock' && !gp1) {
        gp1 = true;
        onCpu(1, () => synchronize_rcu());
      }
    });
    onCpu(5, () => rcu_read_lock());
    expect(gp1).toBe(true);
    expect(gpsSinceBoot()).toBe(1);
    expect(rcuReadLockNesting(5)).toBe(1);
    let exited = false;
    cpuCtx.runner = new ScriptRunner((_ev, n) => {
      if (n === 150) {
        onCpu(5, () => rcu_read_unlock());
        exited = true;
      }
    });
    onCpu(1, () => synchronize_rcu());
    expect(exited).toBe(true);
    expect(gpsSinceBoot()).toBe(2);
  });
});

describe('get_state_synchronize_rcu / poll_state_synchronize_rcu', () => {
  it('a cookie is satisfied by the first full grace period after it, and stays satisfied', () => {
    setup();
    const c = get_state_synchronize_rcu();
    expect(c & 3).toBe(0);
    expect(poll_state_synchronize_rcu(c)).toBe(false);
    synchronize_rcu();
    expect(poll_state_synchronize_rcu(c)).toBe(true);
    const d = get_state_synchronize_rcu();
    expect(d).not.toBe(c);
    expect(poll_state_synchronize_rcu(d)).toBe(false);
    expect(poll_state_synchronize_rcu(RCU_GET_STATE_COMPLETED)).toBe(true);
    // cond_synchronize_rcu() waits only when needed.
    cond_synchronize_rcu(c);
    expect(gpsSinceBoot()).toBe(1);
    cond_synchronize_rcu(d);
    expect(gpsSinceBoot()).toBe(2);
    expect(poll_state_synchronize_rcu(d)).toBe(true);
  });

  it('a cookie taken during a grace period needs the next one (that one may have missed a reader)', () => {
    setup();
    let during = 0;
    cpuCtx.runner = new ScriptRunner((ev) => {
      if (ev === 'rcu_gp_flip' && during === 0) during = get_state_synchronize_rcu();
    });
    synchronize_rcu();
    expect(during).not.toBe(0);
    expect(poll_state_synchronize_rcu(during)).toBe(false);
    synchronize_rcu();
    expect(poll_state_synchronize_rcu(during)).toBe(true);
  });

  it('works across the 32-bit wrap of gp_seq (which starts 300 grace periods before it)', () => {
    setup();
    expect(rcuGpSeq()).toBeLessThan(0);
    const first = get_state_synchronize_rcu();
    for (let i = 0; i < 320; i++) {
      const c = get_state_synchronize_rcu();
      expect(poll_state_synchronize_rcu(c)).toBe(false);
      synchronize_rcu();
      expect(poll_state_synchronize_rcu(c)).toBe(true);
      expect(poll_state_synchronize_rcu(first)).toBe(true);
    }
    expect(rcuGpSeq()).toBeGreaterThan(0);
  });
});

describe('call_rcu / rcu_barrier', () => {
  it('does not run a callback before a grace period; rcu_barrier runs it', () => {
    const { dmesg } = setup();
    call_rcu(1000, RECORD);
    call_rcu(1001, RECORD);
    expect(rcu_do_batch()).toBe(0);
    expect(ran).toEqual([]);
    expect(rcuCallbacksPending()).toBe(2);
    rcu_barrier();
    expect(ran).toEqual([1000, 1001]);
    expect(rcuCallbacksPending()).toBe(0);
    expect(rcuCallbacksInvoked()).toBe(2);
    expect(reports(dmesg())).toEqual([]);
  });

  it('runs a callback only once a grace period has passed since call_rcu(), oldest first', () => {
    setup();
    call_rcu(2000, RECORD);
    synchronize_rcu();
    call_rcu(2001, RECORD); // queued after that grace period: not ready yet
    expect(rcu_do_batch()).toBe(1);
    expect(ran).toEqual([2000]);
    synchronize_rcu();
    expect(rcu_do_batch()).toBe(1);
    expect(ran).toEqual([2000, 2001]);
  });

  it("rcu_barrier waits for the readers that could still see a callback's object", () => {
    setup();
    onCpu(7, () => rcu_read_lock());
    call_rcu(3000, RECORD);
    let ranAt = -1;
    const runner = new ScriptRunner((_ev, n) => {
      if (ran.length > 0 && ranAt < 0) ranAt = n;
      if (n === 250) onCpu(7, () => rcu_read_unlock());
    });
    cpuCtx.runner = runner;
    rcu_barrier();
    expect(ranAt).toBeGreaterThan(250);
    expect(ran).toEqual([3000]);
  });

  it('rcu_barrier waits only for callbacks queued before it: one queued by a callback stays pending', () => {
    setup();
    call_rcu(4000, CHAIN);
    rcu_barrier();
    expect(ran).toEqual([4000]);
    expect(rcuCallbacksPending()).toBe(1);
    rcu_barrier();
    expect(ran).toEqual([4000, 4001]);
    expect(rcuCallbacksPending()).toBe(0);
  });

  it('keeps working when more callbacks are queued than the ring holds', () => {
    const { dmesg } = setup();
    for (let i = 0; i < 5000; i++) call_rcu(10_000 + i, RECORD);
    rcu_barrier();
    expect(ran).toHaveLength(5000);
    expect(ran.every((h, i) => h === 10_000 + i)).toBe(true);
    expect(reports(dmesg())).toEqual([]);
  });

  it('refuses an unregistered callback id and a NULL head', () => {
    setup();
    expect(() => call_rcu(5000, 0x1234567)).toThrow(/not registered/);
    expect(() => call_rcu(0, RECORD)).toThrow(/NULL pointer/);
  });

  it('names callbacks uniquely', () => {
    expect(() => defineRcuCallback('rcu_test_record', () => {})).toThrow(/defined twice/);
  });
});

describe('rcu_gp_kthread', () => {
  it('runs the grace periods and callbacks queued before kthread_stop, then returns', () => {
    const { dmesg } = setup();
    const k = spawnTask('rcu_sched', { kthread: true });
    for (let i = 0; i < 3; i++) call_rcu(6000 + i, RECORD);
    call_rcu(6100, CHAIN); // queues one more while the kthread drains
    kthread_stop(k);
    cpuCtx.current = k;
    rcu_gp_kthread();
    cpuCtx.current = 0;
    expect(ran).toEqual([6000, 6001, 6002, 6100, 6101]);
    expect(rcuCallbacksPending()).toBe(0);
    expect(gpsSinceBoot()).toBeGreaterThanOrEqual(2);
    expect(Atomics.load(mem.i32, rcuState('gp_kthread'))).toBe(0);
    expect(reports(dmesg())).toEqual([]);
  });
});

describe('kfree_rcu', () => {
  it('frees the object into its cache after a grace period, and KASAN then reports a use', () => {
    const { dmesg } = setup();
    const obj = kmem_cache_alloc(plainCache, 'rcu_test_alloc');
    kwrite(obj, 42);
    kfree_rcu(plainCache, obj);
    expect(slab_is_live(plainCache, obj)).toBe(true);
    expect(kread(obj)).toBe(42);
    expect(kmem_cache_live(plainCache)).toBe(1);
    rcu_barrier();
    expect(slab_is_live(plainCache, obj)).toBe(false);
    expect(kmem_cache_live(plainCache)).toBe(0);
    expect(kasanReports()).toBe(0);
    expect(kread(obj)).toBe(POISON_FREE);
    const lines = dmesg();
    expect(reports(lines)[0]).toMatch(/^BUG: KASAN: slab-use-after-free/);
    expect(lines[lines.findIndex((l) => /^Freed by task/.test(l)) + 1]).toBe(' kfree_rcu');
  });

  it('reports an object that is not from the named cache as an invalid free, and queues nothing', () => {
    const { dmesg } = setup();
    const obj = kmem_cache_alloc(plainCache, 'rcu_test_alloc');
    kfree_rcu(typesafeCache, obj);
    expect(reports(dmesg())[0]).toMatch(/^BUG: KASAN: invalid-free/);
    expect(rcuCallbacksPending()).toBe(0);
    expect(slab_is_live(plainCache, obj)).toBe(true);
  });
});

describe('SLAB_TYPESAFE_BY_RCU', () => {
  it('a freed object keeps its type and contents, and the next allocation reuses it at once', () => {
    const { dmesg } = setup();
    const a = kmem_cache_alloc(typesafeCache, 'rcu_test_alloc');
    expect(kread(a + 3)).toBe(CTOR_MARK);
    kwrite(a, 0x1111);
    kmem_cache_free(typesafeCache, a, 'rcu_test_free');
    expect(slab_is_live(typesafeCache, a)).toBe(false);
    // A reader that raced with the free still reads the old object, and KASAN is silent.
    expect(kread(a)).toBe(0x1111);
    expect(kread(a + 3)).toBe(CTOR_MARK);
    const b = kmem_cache_alloc(typesafeCache, 'rcu_test_alloc');
    expect(b).toBe(a);
    // Not zeroed: a racing reader may be using the embedded lock set up by the constructor.
    expect(kread(b)).toBe(0x1111);
    expect(kread(b + 3)).toBe(CTOR_MARK);
    expect(kasanReports()).toBe(0);
    expect(reports(dmesg())).toEqual([]);
  });

  it('stays type-stable while a pre-existing reader is inside, and is a use-after-free a grace period later', () => {
    const { dmesg } = setup();
    const a = kmem_cache_alloc(typesafeCache, 'rcu_test_alloc');
    onCpu(3, () => rcu_read_lock());
    kmem_cache_free(typesafeCache, a, 'rcu_test_free');
    // The grace period cannot end while CPU3 is inside, so the object cannot have lost its slab.
    const runner = new ScriptRunner((_ev, n) => {
      if (n > 200) return;
      onCpu(3, () => kread(a));
      if (n === 200) onCpu(3, () => rcu_read_unlock());
    });
    cpuCtx.runner = runner;
    synchronize_rcu();
    expect(kasanReports()).toBe(0);
    kread(a + 1);
    const lines = dmesg();
    expect(reports(lines)).toHaveLength(1);
    expect(reports(lines)[0]).toMatch(/^BUG: KASAN: use-after-free in /);
    expect(lines).toContain(
      'The cache rcu_test_typesafe is SLAB_TYPESAFE_BY_RCU and a grace period has elapsed since the free:',
    );
  });

  it('a reallocated object is live again, a double free is reported, and a reset re-runs the ctor', () => {
    const { dmesg } = setup();
    const a = kmem_cache_alloc(typesafeCache, 'rcu_test_alloc');
    kwrite(a + 3, 7);
    kmem_cache_free(typesafeCache, a, 'rcu_test_free');
    synchronize_rcu();
    const b = kmem_cache_alloc(typesafeCache, 'rcu_test_alloc');
    expect(b).toBe(a);
    kread(b);
    expect(kasanReports()).toBe(0);
    kmem_cache_free(typesafeCache, b, 'rcu_test_free');
    kmem_cache_free(typesafeCache, b, 'rcu_test_free_again');
    expect(reports(dmesg())).toEqual(['BUG: KASAN: double-free in kmem_cache_free']);
    expect(kmem_cache_live(typesafeCache)).toBe(0);
    setup();
    const c = kmem_cache_alloc(typesafeCache, 'rcu_test_alloc');
    expect(kread(c + 3)).toBe(CTOR_MARK);
    expect(kread(c)).toBe(0);
  });

  it('leaves caches without the flag as they were: poison and quarantine', () => {
    setup();
    const a = kmem_cache_alloc(plainCache, 'rcu_test_alloc');
    kmem_cache_free(plainCache, a, 'rcu_test_free');
    expect(mem.i32[a]).toBe(POISON_FREE);
    expect(kmem_cache_alloc(plainCache, 'rcu_test_alloc')).not.toBe(a);
    expect(URCU_GP_CTR_PHASE).toBe(1 << 16);
  });
});
