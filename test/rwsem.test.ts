// rw_semaphore fast paths and the single-task slow-path exits, on the boot CPU. The multi-CPU
// wait-list behaviour is in workers.test.ts (real threads).
import { afterEach, describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { BootRunner } from '../src/cpu/free.js';
import { mm_alloc, spawnTask } from '../src/kernel/fork.js';
import {
  down_read,
  down_read_killable,
  down_read_trylock,
  down_write,
  down_write_killable,
  down_write_trylock,
  downgrade_write,
  EINTR,
  init_rwsem,
  RWSEM,
  RWSEM_FLAG_WAITERS,
  RWSEM_READER_BIAS,
  RWSEM_READER_OWNED,
  RWSEM_WRITER_LOCKED,
  rwsem_is_locked,
  rwsem_owner,
  rwsem_waiters,
  up_read,
  up_write,
} from '../src/kernel/locking/rwsem.js';
import { TASK } from '../src/kernel/task_struct.js';
import { MM } from '../src/mm/mm_types.js';
import { mem } from '../src/shm/arena.js';
import { boot } from './helpers/boot.js';

function setup(): { sem: number; count: () => number; owner: () => number } {
  boot('v6.6');
  const sem = mm_alloc() + MM.mmap_sem; // an rwsem embedded in a live object
  init_rwsem(sem);
  cpuCtx.current = spawnTask('locker');
  return {
    sem,
    count: () => Atomics.load(mem.i32, sem + RWSEM.count),
    owner: () => Atomics.load(mem.i32, sem + RWSEM.owner),
  };
}

afterEach(() => {
  cpuCtx.runner = new BootRunner();
});

describe('rw_semaphore fast paths', () => {
  it('down_read adds one reader bias and marks the owner reader-owned; up_read removes it', () => {
    const { sem, count, owner } = setup();
    down_read(sem);
    expect(count()).toBe(RWSEM_READER_BIAS);
    expect(owner() & RWSEM_READER_OWNED).toBe(RWSEM_READER_OWNED);
    expect(rwsem_owner(sem)).toBe(cpuCtx.current);
    down_read(sem); // readers share
    expect(count()).toBe(2 * RWSEM_READER_BIAS);
    up_read(sem);
    up_read(sem);
    expect(count()).toBe(0);
    expect(rwsem_is_locked(sem)).toBe(false);
  });

  it('down_write is a CAS from 0 to WRITER_LOCKED with owner = current; trylocks then fail', () => {
    const { sem, count, owner } = setup();
    down_write(sem);
    expect(count()).toBe(RWSEM_WRITER_LOCKED);
    expect(owner()).toBe(cpuCtx.current);
    expect(down_read_trylock(sem)).toBe(false);
    expect(down_write_trylock(sem)).toBe(false);
    expect(count()).toBe(RWSEM_WRITER_LOCKED); // a failed read trylock leaves no bias
    up_write(sem);
    expect(count()).toBe(0);
    expect(owner()).toBe(0);
    expect(down_write_trylock(sem)).toBe(true);
    up_write(sem);
    expect(down_read_trylock(sem)).toBe(true);
    expect(down_write_trylock(sem)).toBe(false); // readers exclude the writer fast path
    up_read(sem);
  });

  it('a failing reader has its bias in the count until the slow path backs it out', () => {
    const { sem, count } = setup();
    down_write(sem);
    const seen: number[] = [];
    cpuCtx.runner = Object.assign(new BootRunner(), {
      point(id: string) {
        if (id === 'rwsem_down_read_slowpath') seen.push(count());
      },
    });
    // A fatal signal is pending, so the killable reader gives up instead of sleeping forever.
    Atomics.store(mem.i32, cpuCtx.current + TASK.pending_sigkill, 1);
    expect(down_read_killable(sem)).toBe(-EINTR);
    expect(seen).toEqual([RWSEM_WRITER_LOCKED + RWSEM_READER_BIAS]);
    expect(count()).toBe(RWSEM_WRITER_LOCKED); // bias removed, WAITERS cleared with the empty list
    expect(rwsem_waiters(sem)).toEqual([]);
  });

  it('a killed writer leaves the lock as it found it', () => {
    const { sem, count } = setup();
    down_read(sem);
    Atomics.store(mem.i32, cpuCtx.current + TASK.pending_sigkill, 1);
    expect(down_write_killable(sem)).toBe(-EINTR);
    expect(count()).toBe(RWSEM_READER_BIAS);
    expect(count() & RWSEM_FLAG_WAITERS).toBe(0);
    up_read(sem);
    expect(count()).toBe(0);
  });

  it('downgrade_write turns the writer into one reader in one step', () => {
    const { sem, count, owner } = setup();
    down_write(sem);
    downgrade_write(sem);
    expect(count()).toBe(RWSEM_READER_BIAS);
    expect(owner() & RWSEM_READER_OWNED).toBe(RWSEM_READER_OWNED);
    up_read(sem);
    expect(count()).toBe(0);
  });
});
