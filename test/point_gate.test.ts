// Quiet preemption points (src/cpu/point_gate.ts): while the free runner has nothing to do at a
// point (no jitter window, no --record, not spinning), point() is a countdown, yet the points are
// counted exactly, an abort still stops the CPU within QUIET_STRIDE points, a runner that
// replaces point() hears every point, and a spin loop's end is still seen by the next point.
// Also the lock gate's count of the preempt-disabled sections open on the thread, which sends
// sleeping locks to might_sleep() (their fast path has none).
import { afterAll, describe, expect, it } from 'vitest';
import { BOOT_CPU, cpuCtx, PREEMPT_COUNT_MASK, point, preemptCountWord } from '../src/cpu/context.js';
import { C, ctl, PC, percpu } from '../src/cpu/control.js';
import { CpuStop } from '../src/cpu/errors.js';
import { BootRunner, FreeRunner } from '../src/cpu/free.js';
import { NO_JITTER } from '../src/cpu/jitter.js';
import { logRead } from '../src/cpu/logring.js';
import { Machine } from '../src/cpu/machine.js';
import { gatePreemptOpen, lockGate, pointsQuiet, QUIET_STRIDE } from '../src/cpu/point_gate.js';
import { mm_alloc, spawnTask } from '../src/kernel/fork.js';
import { lockdepDepth } from '../src/kernel/locking/lockdep_held.js';
import { lockdep_enable } from '../src/kernel/locking/lockdep_state.js';
import { down_read, init_rwsem, up_read } from '../src/kernel/locking/rwsem.js';
import { spin_lock, spin_lock_init, spin_unlock } from '../src/kernel/locking/spinlock.js';
import { preempt_disable, preempt_enable } from '../src/kernel/preempt.js';
import { MM } from '../src/mm/mm_types.js';
import { kernelReset, machineRegions } from '../src/scenarios/kernel_image.js';
import { mem } from '../src/shm/arena.js';
import { refreshThreadConfig } from '../src/shm/thread_config.js';

describe('quiet preemption points', () => {
  const machine = new Machine(machineRegions(64));
  afterAll(async () => {
    machine.attach();
    await machine.destroy();
  });

  function freeCpu(): FreeRunner {
    machine.attach();
    kernelReset();
    Atomics.store(mem.i32, ctl() + C.ABORT, 0);
    cpuCtx.cpu = 0;
    const r = new FreeRunner(NO_JITTER, 0);
    cpuCtx.runner = r;
    r.beginRun(1);
    return r;
  }

  it('a free runner without windows is quiet, and counts every point exactly', () => {
    const r = freeCpu();
    expect(pointsQuiet).toBe(true);
    const n = 3 * QUIET_STRIDE + 17;
    for (let i = 0; i < n; i++) point('p');
    expect(r.points).toBe(n);
    r.beginRun(2);
    expect(r.points).toBe(0);
    point('p');
    expect(r.points).toBe(1);
    machine.attach();
  });

  it('a run traced through another runner, then handed back, keeps its quiet points', () => {
    const r = freeCpu();
    for (let i = 0; i < 100; i++) point('p');
    // cpu_loop: a traced run's runner is a TracingRunner; afterwards its own runner is put back
    // before the count is published.
    cpuCtx.runner = new BootRunner();
    cpuCtx.runner = r;
    expect(r.points).toBe(100);
    for (let i = 0; i < 100; i++) point('p');
    cpuCtx.runner = r; // the same runner again: nothing dropped, nothing counted twice
    expect(r.points).toBe(200);
    machine.attach();
  });

  it('an abort stops a CPU that only makes straight-line points within QUIET_STRIDE points', () => {
    freeCpu();
    Atomics.store(mem.i32, ctl() + C.ABORT, 1);
    let made = 0;
    expect(() => {
      for (; made <= 2 * QUIET_STRIDE; made++) point('p');
    }).toThrow(CpuStop);
    expect(made).toBeLessThanOrEqual(QUIET_STRIDE);
    Atomics.store(mem.i32, ctl() + C.ABORT, 0);
    machine.attach();
  });

  it('a runner that replaces point() hears every point', () => {
    machine.attach();
    const heard: string[] = [];
    cpuCtx.runner = Object.assign(new BootRunner(), { point: (id: string) => void heard.push(id) });
    expect(pointsQuiet).toBe(false);
    point('a');
    point('b');
    expect(heard).toEqual(['a', 'b']);
    machine.attach();
    expect(pointsQuiet).toBe(true);
  });

  it('a spin loop makes the points loud until the next point ends it', () => {
    const r = freeCpu();
    r.relax(0);
    expect(pointsQuiet).toBe(false);
    expect(Atomics.load(mem.i32, percpu(0, PC.SPIN_SINCE))).not.toBe(0);
    point('after the loop');
    expect(Atomics.load(mem.i32, percpu(0, PC.SPIN_SINCE))).toBe(0);
    expect(pointsQuiet).toBe(true);
    expect(r.points).toBe(1);
    machine.attach();
  });

  it("the lock gate counts this thread's open preempt-disabled sections, as the arena word does", () => {
    machine.attach();
    kernelReset();
    cpuCtx.cpu = 2;
    cpuCtx.preemptCount = 0;
    const word = () => Atomics.load(mem.i32, preemptCountWord(2)) & PREEMPT_COUNT_MASK;
    const nesting = () => lockGate >> 8;
    expect(nesting()).toBe(0);
    expect(gatePreemptOpen()).toBe(false);
    preempt_disable();
    preempt_disable();
    expect(word()).toBe(2);
    expect(nesting()).toBe(2);
    expect(gatePreemptOpen()).toBe(true);
    preempt_enable();
    expect(nesting()).toBe(word());
    // Assigning the count moves the gate by the change; a reload takes this CPU's word.
    cpuCtx.preemptCount = 3;
    expect(nesting()).toBe(3);
    cpuCtx.preemptCount = 0;
    expect(nesting()).toBe(0);
    Atomics.store(mem.i32, preemptCountWord(2), 5);
    refreshThreadConfig();
    expect(nesting()).toBe(5);
    cpuCtx.preemptCount = 0;
    expect(gatePreemptOpen()).toBe(false);
    cpuCtx.cpu = BOOT_CPU;
    machine.attach();
  });

  it('a sleeping lock taken with preemption off leaves the fast path and might_sleep() reports it', () => {
    machine.attach();
    kernelReset();
    cpuCtx.current = spawnTask('gate');
    const sem = mm_alloc() + MM.mmap_sem;
    init_rwsem(sem);
    const before = logRead().records.length;
    down_read(sem); // the gate is open: the fast path, nothing to report
    up_read(sem);
    expect(logRead().records.length).toBe(before);
    preempt_disable();
    expect(lockGate).not.toBe(0);
    down_read(sem);
    up_read(sem);
    preempt_enable();
    expect(lockGate).toBe(0);
    const texts = logRead()
      .records.slice(before)
      .map((r) => r.text);
    expect(
      texts.some((t) =>
        t.includes('BUG: sleeping function called from invalid context at kernel/locking/rwsem.c:down_read'),
      ),
    ).toBe(true);
    machine.attach();
  });

  it('locks taken with lockdep on and released after it was switched off leave its held-lock stack', () => {
    machine.attach();
    kernelReset();
    const t = spawnTask('tracked');
    cpuCtx.current = t;
    const mm = mm_alloc();
    const sem = mm + MM.mmap_sem;
    const lock = mm + MM.page_table_lock;
    init_rwsem(sem);
    spin_lock_init(lock);
    // No lock taken with lockdep on yet: releases skip the held-lock check (lockGate's low bit).
    const tracked = () => lockGate & 1;
    if (tracked() === 0) {
      down_read(sem);
      up_read(sem);
      expect(tracked()).toBe(0);
    }
    lockdep_enable(true);
    try {
      down_read(sem);
      spin_lock(lock);
      expect(tracked()).toBe(1);
      expect(lockdepDepth(t)).toBe(2);
    } finally {
      lockdep_enable(false);
    }
    spin_unlock(lock);
    up_read(sem);
    expect(lockdepDepth(t)).toBe(0);
    machine.attach();
  });
});
