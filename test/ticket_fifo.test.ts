// The ticket spinlock serves tickets in the order they were drawn. A scripted runner stands in for
// the two CPUs ahead of us: each spin iteration it lets the current holder unlock.
import { afterEach, describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { BootRunner } from '../src/cpu/free.js';
import { mm_alloc, spawnTask } from '../src/kernel/fork.js';
import { spin_lock, spin_trylock, spin_unlock, TICKET_SHIFT } from '../src/kernel/locking/spinlock.js';
import { MM } from '../src/mm/mm_types.js';
import { mem } from '../src/shm/arena.js';
import { boot } from './helpers/boot.js';

afterEach(() => {
  cpuCtx.runner = new BootRunner();
});

describe('ticket spinlock order', () => {
  it('a new locker waits for every earlier ticket, and gets the lock exactly when its turn comes', () => {
    boot();
    cpuCtx.current = spawnTask('t');
    const lock = mm_alloc() + MM.page_table_lock;
    // Ticket 5 holds the lock, ticket 6 is queued: head 5, tail 7.
    Atomics.store(mem.i32, lock, (7 << TICKET_SHIFT) | 5);
    expect(spin_trylock(lock)).toBe(false);
    const headsSeen: number[] = [];
    const runner = Object.assign(new BootRunner(), {
      relax(_spins: number) {
        const head = Atomics.load(mem.u16, lock * 2);
        headsSeen.push(head);
        Atomics.store(mem.u16, lock * 2, head + 1); // the holder of `head` unlocks
      },
    });
    cpuCtx.runner = runner;
    spin_lock(lock); // draws ticket 7
    expect(headsSeen).toEqual([5, 6]); // it waited through 5 and 6, and not one unlock longer
    expect(Atomics.load(mem.u16, lock * 2)).toBe(7);
    expect(Atomics.load(mem.u16, lock * 2 + 1)).toBe(8);
    spin_unlock(lock);
    expect(Atomics.load(mem.i32, lock)).toBe((8 << TICKET_SHIFT) | 8);
  });
});
