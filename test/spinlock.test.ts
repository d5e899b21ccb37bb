// The ticket spinlock and the sleeping-in-atomic detector, on the boot CPU.
import { describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { mm_alloc, spawnTask } from '../src/kernel/fork.js';
import { down_read, init_rwsem, RWSEM, up_read } from '../src/kernel/locking/rwsem.js';
import { spin_is_locked, spin_lock, spin_trylock, spin_unlock } from '../src/kernel/locking/spinlock.js';
import { TASK } from '../src/kernel/task_struct.js';
import { MM } from '../src/mm/mm_types.js';
import { mem } from '../src/shm/arena.js';
import { boot, reports } from './helpers/boot.js';

function lockWord(): number {
  const mm = mm_alloc();
  return mm + MM.page_table_lock;
}

describe('ticket spinlock', () => {
  it('lock takes the next ticket, unlock advances the head; trylock fails while held', () => {
    boot();
    cpuCtx.current = spawnTask('t');
    const lock = lockWord();
    for (let i = 0; i < 3; i++) {
      expect(spin_is_locked(lock)).toBe(false);
      spin_lock(lock);
      expect(spin_is_locked(lock)).toBe(true);
      expect(spin_trylock(lock)).toBe(false);
      spin_unlock(lock);
    }
    // head and tail both advanced by 3: tickets are handed out and served in order
    expect(Atomics.load(mem.u16, lock * 2)).toBe(3);
    expect(Atomics.load(mem.u16, lock * 2 + 1)).toBe(3);
    expect(spin_trylock(lock)).toBe(true);
    spin_unlock(lock);
    expect(cpuCtx.preemptCount).toBe(0);
  });

  it('the ticket halves wrap at 16 bits without corrupting each other', () => {
    boot();
    cpuCtx.current = spawnTask('t');
    const lock = lockWord();
    Atomics.store(mem.u16, lock * 2, 0xffff);
    Atomics.store(mem.u16, lock * 2 + 1, 0xffff);
    spin_lock(lock);
    spin_unlock(lock);
    expect(Atomics.load(mem.u16, lock * 2)).toBe(0);
    expect(Atomics.load(mem.u16, lock * 2 + 1)).toBe(0);
  });

  it('sleeping (an rwsem down) with a spinlock held is reported; without it, silence', () => {
    const { dmesg } = boot();
    cpuCtx.current = spawnTask('sleeper');
    const lock = lockWord();
    const sem = mm_alloc() + MM.mmap_sem;
    init_rwsem(sem);
    down_read(sem);
    up_read(sem);
    expect(reports(dmesg())).toEqual([]);
    spin_lock(lock);
    down_read(sem);
    up_read(sem);
    spin_unlock(lock);
    expect(reports(dmesg())).toEqual([
      'BUG: sleeping function called from invalid context at kernel/locking/rwsem.c:down_read',
    ]);
    expect(dmesg()).toContain(
      `in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: ${Atomics.load(mem.i32, cpuCtx.current + TASK.pid)}, name: sleeper`,
    );
    expect(Atomics.load(mem.i32, sem + RWSEM.count)).toBe(0);
  });
});
