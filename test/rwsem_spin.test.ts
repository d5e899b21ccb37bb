// Writer optimistic spinning (CONFIG_RWSEM_SPIN_ON_OWNER), on the boot CPU: a scripted runner
// plays the owner's CPU during the spin.
import { afterEach, describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { BootRunner } from '../src/cpu/free.js';
import type { WaitResult } from '../src/cpu/runner.js';
import { mm_alloc, spawnTask } from '../src/kernel/fork.js';
import {
  down_write,
  init_rwsem,
  RWSEM,
  RWSEM_FLAG_WAITERS,
  RWSEM_WRITER_LOCKED,
  up_write,
} from '../src/kernel/locking/rwsem.js';
import { rwsem_spin_on_owner_enable } from '../src/kernel/locking/rwsem_spin.js';
import { TASK, TASK_RUNNING } from '../src/kernel/task_struct.js';
import { MM } from '../src/mm/mm_types.js';
import { mem } from '../src/shm/arena.js';
import { boot } from './helpers/boot.js';

afterEach(() => {
  cpuCtx.runner = new BootRunner();
  rwsem_spin_on_owner_enable(null);
});

/** Owner A holds the write lock; B is current. Each relax/wait of B lets A run one step. */
function setup(spin: boolean, ownerOnCpu: boolean) {
  boot('v6.6');
  rwsem_spin_on_owner_enable(spin);
  const sem = mm_alloc() + MM.mmap_sem;
  init_rwsem(sem);
  const a = spawnTask('owner');
  const b = spawnTask('spinner');
  cpuCtx.current = a;
  down_write(sem);
  Atomics.store(mem.i32, a + TASK.on_cpu, ownerOnCpu ? 1 : 0);
  Atomics.store(mem.i32, b + TASK.on_cpu, 1);
  const log = { relax: 0, waits: 0, countAtRelease: 0 };
  const release = () => {
    cpuCtx.current = a;
    log.countAtRelease = Atomics.load(mem.i32, sem + RWSEM.count);
    up_write(sem);
    cpuCtx.current = b;
  };
  cpuCtx.runner = Object.assign(new BootRunner(), {
    relax(_spins: number) {
      if (log.relax++ === 3) release();
    },
    wait(_addr: number, _expected: number, _ms: number): WaitResult {
      if (log.waits++ === 0) release();
      else Atomics.store(mem.i32, b + TASK.__state, TASK_RUNNING);
      return 'ok';
    },
  });
  cpuCtx.current = b;
  return { sem, a, b, log };
}

describe('rwsem writer optimistic spinning', () => {
  it('with spinning on, a writer spins on an on-CPU writer owner and takes the lock without queuing', () => {
    const { sem, b, log } = setup(true, true);
    down_write(sem);
    expect(Atomics.load(mem.i32, sem + RWSEM.count)).toBe(RWSEM_WRITER_LOCKED);
    expect(Atomics.load(mem.i32, sem + RWSEM.owner)).toBe(b);
    expect(log.relax).toBeGreaterThan(3);
    expect(log.waits).toBe(0); // never slept
    expect(log.countAtRelease & RWSEM_FLAG_WAITERS).toBe(0); // never queued
    up_write(sem);
  });

  it('does not spin on an owner that is off its CPU: the writer queues and sleeps', () => {
    const { sem, log } = setup(true, false);
    down_write(sem);
    expect(log.relax).toBe(0);
    expect(log.waits).toBeGreaterThan(0);
    expect(log.countAtRelease & RWSEM_FLAG_WAITERS).toBe(RWSEM_FLAG_WAITERS);
    expect(Atomics.load(mem.i32, sem + RWSEM.count)).toBe(RWSEM_WRITER_LOCKED);
  });

  it('with the config off (the default), a writer never spins', () => {
    const { sem, log } = setup(false, true);
    down_write(sem);
    expect(log.relax).toBe(0);
    expect(log.waits).toBeGreaterThan(0);
    expect(log.countAtRelease & RWSEM_FLAG_WAITERS).toBe(RWSEM_FLAG_WAITERS);
  });
});
