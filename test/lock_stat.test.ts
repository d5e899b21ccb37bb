// lock_stat on the boot CPU: exact acquisition counts, a contention on an rwsem held by another
// task (with and without the waiter getting it), bounces between CPUs, and /proc/lock_stat.
import { afterEach, describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { BootRunner } from '../src/cpu/free.js';
import { mm_alloc, spawnTask } from '../src/kernel/fork.js';
import { type LockClassStats, lockStatClasses, lockStatClear } from '../src/kernel/locking/lock_stat.js';
import { lockdepReset } from '../src/kernel/locking/lockdep.js';
import { lockStatText } from '../src/kernel/locking/lockdep_proc.js';
import { lock_stat_enable, lockdep_enable } from '../src/kernel/locking/lockdep_state.js';
import {
  down_read,
  down_read_killable,
  down_read_trylock,
  down_write,
  down_write_trylock,
  EINTR,
  init_rwsem,
  up_read,
  up_write,
} from '../src/kernel/locking/rwsem.js';
import { spin_lock, spin_lock_init, spin_trylock, spin_unlock } from '../src/kernel/locking/spinlock.js';
import { TASK } from '../src/kernel/task_struct.js';
import { MM } from '../src/mm/mm_types.js';
import { mem } from '../src/shm/arena.js';
import { boot, reports } from './helpers/boot.js';

function setup({ lockdep = false } = {}) {
  // v6.6's rwsem: the writer test below hooks its slow path's preemption point by name.
  const { dmesg } = boot('v6.6');
  lockdepReset();
  lockStatClear();
  lock_stat_enable(true);
  lockdep_enable(lockdep);
  const mm = mm_alloc();
  const sem = mm + MM.mmap_sem;
  const ptl = mm + MM.page_table_lock;
  init_rwsem(sem, '&mm->mmap_sem');
  spin_lock_init(ptl, 'mm->page_table_lock');
  return { dmesg, sem, ptl, a: spawnTask('task-a'), b: spawnTask('task-b') };
}

function stats(name: string): LockClassStats {
  const s = lockStatClasses().find((c) => c.name === name);
  if (!s) throw new Error(`no lock class ${name}`);
  return s;
}

/** Hold whatever is held for at least `us` microseconds of real time. */
function spinFor(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end);
}

afterEach(() => {
  lock_stat_enable(false);
  lockdep_enable(false);
  cpuCtx.current = 0;
  cpuCtx.cpu = -1;
  cpuCtx.runner = new BootRunner();
});

describe('lock_stat counts', () => {
  it('counts every acquisition per class and side, exactly, with a hold time', () => {
    const { dmesg, sem, ptl, a } = setup();
    cpuCtx.current = a;
    for (let i = 0; i < 3; i++) {
      down_read(sem);
      spinFor(2);
      up_read(sem);
    }
    expect(down_read_trylock(sem)).toBe(true);
    up_read(sem);
    for (let i = 0; i < 2; i++) {
      down_write(sem);
      expect(down_write_trylock(sem)).toBe(false); // a failed trylock is no acquisition
      up_write(sem);
    }
    for (let i = 0; i < 5; i++) {
      spin_lock(ptl);
      spinFor(1);
      spin_unlock(ptl);
    }
    expect(spin_trylock(ptl)).toBe(true);
    spin_unlock(ptl);

    const s = stats('&mm->mmap_sem');
    expect(s.read_holdtime.nr).toBe(4);
    expect(s.write_holdtime.nr).toBe(2);
    expect(s.read_waittime.nr + s.write_waittime.nr).toBe(0);
    expect(s.read_holdtime.min).toBeGreaterThanOrEqual(0);
    expect(s.read_holdtime.total).toBeGreaterThanOrEqual(3 * 2000); // three 2 µs holds, in ns
    expect(s.read_holdtime.max).toBeGreaterThanOrEqual(2000);
    expect(s.read_holdtime.max).toBeLessThanOrEqual(s.read_holdtime.total);
    const p = stats('mm->page_table_lock');
    expect(p.write_holdtime.nr).toBe(6);
    expect(p.read_holdtime.nr).toBe(0);
    expect(p.write_holdtime.total).toBeGreaterThanOrEqual(5 * 1000);
    // the rwsem's wait_lock is only taken on the slow paths
    expect(stats('&sem->wait_lock').write_holdtime.nr).toBe(0);
    expect(reports(dmesg())).toEqual([]);

    lockStatClear();
    expect(stats('&mm->mmap_sem').read_holdtime).toEqual({ nr: 0, min: 0, max: 0, total: 0 });
  });

  it('counts nothing while lock_stat is off', () => {
    const { sem, a } = setup();
    lock_stat_enable(false);
    cpuCtx.current = a;
    down_read(sem);
    up_read(sem);
    expect(stats('&mm->mmap_sem').read_holdtime.nr).toBe(0);
  });
});

describe('lock_stat contention', () => {
  it('a killable reader that gives up on a writer-held rwsem records the contention point', () => {
    const { sem, a, b } = setup();
    cpuCtx.current = a;
    down_write(sem);
    cpuCtx.current = b;
    cpuCtx.cpu = 1; // b runs on another CPU than the one that took the lock
    Atomics.store(mem.i32, b + TASK.pending_sigkill, 1);
    (function reader_gives_up() {
      expect(down_read_killable(sem)).toBe(-EINTR);
    })();
    const s = stats('&mm->mmap_sem');
    expect(s.contention_point).toEqual([
      { ip: expect.stringMatching(/^reader_gives_up \(test\/lock_stat\.test\.ts:\d+\)$/), count: 1 },
    ]);
    expect(s.bounces.contended_read).toBe(1);
    expect(s.bounces.contended_write).toBe(0);
    // as in the kernel: a wait that never got the lock adds no wait time, but its
    // lock_release() still closes a hold-time sample
    expect(s.read_waittime.nr).toBe(0);
    expect(s.read_holdtime.nr).toBe(1);
    cpuCtx.current = a;
    cpuCtx.cpu = -1;
    up_write(sem);
    expect(stats('&mm->mmap_sem').write_holdtime.nr).toBe(1);
  });

  it('a writer that waits for a reader to leave counts a contention with its wait time', () => {
    const { sem, a, b } = setup({ lockdep: true });
    function reader_holds(): void {
      down_read(sem);
    }
    cpuCtx.current = a;
    reader_holds();
    // When b's down_write() reaches the slow path, a (on b's CPU, in turn) leaves.
    let released = false;
    cpuCtx.runner = Object.assign(new BootRunner(), {
      point(id: string) {
        if (id !== 'rwsem_down_write_slowpath' || released) return;
        released = true;
        cpuCtx.current = a;
        cpuCtx.cpu = -1;
        spinFor(5);
        up_read(sem);
        cpuCtx.current = b;
        cpuCtx.cpu = 1;
      },
    });
    cpuCtx.current = b;
    cpuCtx.cpu = 1;
    (function writer_waits() {
      down_write(sem);
    })();
    expect(released).toBe(true);
    up_write(sem);
    const s = stats('&mm->mmap_sem');
    expect(s.write_waittime.nr).toBe(1);
    expect(s.write_waittime.min).toBeGreaterThanOrEqual(5000);
    expect(s.write_waittime.total).toBe(s.write_waittime.min);
    expect(s.bounces.contended_write).toBe(1);
    expect(s.bounces.acquired_write).toBe(1);
    expect(s.write_holdtime.nr).toBe(1);
    expect(s.read_holdtime.nr).toBe(1);
    expect(s.contention_point).toEqual([{ ip: expect.stringMatching(/^writer_waits /), count: 1 }]);
    expect(s.contending_point).toEqual([{ ip: expect.stringMatching(/^reader_holds /), count: 1 }]);
    // the slow path took the wait_lock under mmap_sem
    expect(stats('&sem->wait_lock').write_holdtime.nr).toBeGreaterThan(0);
  });
});

describe('/proc/lock_stat', () => {
  it('prints the header and a row per class and side, most contended first', () => {
    const { sem, ptl, a, b } = setup();
    cpuCtx.current = a;
    down_read(sem);
    up_read(sem);
    spin_lock(ptl);
    spin_unlock(ptl);
    down_write(sem);
    cpuCtx.current = b;
    Atomics.store(mem.i32, b + TASK.pending_sigkill, 1);
    (function reader_gives_up() {
      down_read_killable(sem);
    })();
    cpuCtx.current = a;
    up_write(sem);
    // one real contention, on the page_table_lock, taken by b while a holds it
    spin_lock(ptl);
    cpuCtx.current = b;
    cpuCtx.runner = Object.assign(new BootRunner(), {
      relax() {
        cpuCtx.current = a;
        spin_unlock(ptl);
        cpuCtx.current = b;
      },
    });
    (function ptl_waiter() {
      spin_lock(ptl);
    })();
    spin_unlock(ptl);

    const text = lockStatText();
    const lines = text.split('\n');
    const rule = '-'.repeat(221);
    expect(lines.slice(0, 5)).toEqual([
      'lock_stat version 0.4',
      rule,
      `${'class name'.padStart(40)}    con-bounces    contentions   waittime-min   waittime-max waittime-total   waittime-avg    acq-bounces   acquisitions   holdtime-min   holdtime-max holdtime-total   holdtime-avg`,
      rule,
      '',
    ]);
    const num = '\\s+\\d+';
    const t = '\\s+\\d+\\.\\d\\d';
    const row = (label: string, acq: number, con: number) =>
      new RegExp(
        `^${label.replace(/[.*+?^${}()|[\]-]/g, '\\$&')}${num}\\s+${con}${t}${t}${t}${t}${num}\\s+${acq}${t}${t}${t}${t}$`,
      );
    expect(lines[5]).toMatch(row(`${'mm->page_table_lock'.padStart(40)}:`, 3, 1));
    expect(lines[5]!.length).toBe(lines[2]!.length); // columns under their headers
    // the page_table_lock's points: who waited, and (without lockdep's acquire ips) no holder
    expect(lines[6]).toBe(`${' '.repeat(40 - 19)}${'-'.repeat(19)}`);
    expect(lines[7]).toMatch(
      /^ {21}mm->page_table_lock {14}1 +\[<[0-9a-f]{8}>\] ptl_waiter \(test\/lock_stat\.test\.ts:\d+\)$/,
    );
    const w = lines.findIndex((l) => l.startsWith(`${'&mm->mmap_sem'.padStart(38)}-W:`));
    expect(lines[w]).toMatch(row(`${'&mm->mmap_sem'.padStart(38)}-W:`, 1, 0));
    expect(lines[w + 1]).toMatch(row(`${'&mm->mmap_sem'.padStart(38)}-R:`, 2, 0));
    expect(w).toBeGreaterThan(7);
    expect(text).not.toContain('*WARNING*');
  });
});
