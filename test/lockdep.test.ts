// lockdep on the boot CPU: tasks take turns as `current`, so a lock order seen once in each
// direction is reported without the deadlock ever happening, as in the kernel.
import { afterEach, describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { mm_alloc, spawnTask } from '../src/kernel/fork.js';
import { lockdep_assert_held, lockdepReset, SINGLE_DEPTH_NESTING } from '../src/kernel/locking/lockdep.js';
import { MAX_LOCK_SUBCLASSES } from '../src/kernel/locking/lockdep_classes.js';
import { lock_stat_enable, lockdep_enable } from '../src/kernel/locking/lockdep_state.js';
import {
  down_read,
  down_read_nested,
  down_write,
  down_write_nested,
  init_rwsem,
  up_read,
  up_write,
} from '../src/kernel/locking/rwsem.js';
import { spin_lock, spin_lock_init, spin_lock_nested, spin_unlock } from '../src/kernel/locking/spinlock.js';
import { task_pid } from '../src/kernel/task_struct.js';
import { utsname } from '../src/kernel/utsname.js';
import { MM } from '../src/mm/mm_types.js';
import {
  mmap_assert_locked,
  mmap_assert_write_locked,
  mmap_init_lock,
  mmap_read_lock,
  mmap_read_unlock,
  mmap_write_lock,
  mmap_write_unlock,
} from '../src/mm/mmap_lock.js';
import { boot, reports } from './helpers/boot.js';

const CIRCULAR = 'WARNING: possible circular locking dependency detected';

/** A fresh kernel with lockdep on (or off), two tasks and two spinlocks of two classes. */
function setup(on = true) {
  const { dmesg } = boot();
  lockdepReset();
  lockdep_enable(on);
  const mm = mm_alloc();
  const outer = mm + MM.page_table_lock;
  const inner = mm_alloc() + MM.page_table_lock;
  spin_lock_init(outer, 'mm->page_table_lock');
  spin_lock_init(inner, 'ptlock');
  const a = spawnTask('task-a');
  const b = spawnTask('task-b');
  return { dmesg, mm, outer, inner, a, b };
}

function as(task: number, fn: () => void): void {
  cpuCtx.current = task;
  fn();
}

function lock_in_order(first: number, second: number): void {
  spin_lock(first);
  spin_lock(second);
  spin_unlock(second);
  spin_unlock(first);
}

afterEach(() => {
  lockdep_enable(false);
  lock_stat_enable(false);
  cpuCtx.current = 0;
});

describe('lockdep: circular locking dependency', () => {
  it('A -> B on one task, then B -> A on another, is reported with both classes', () => {
    const { dmesg, outer, inner, a, b } = setup();
    as(a, () => lock_in_order(outer, inner));
    expect(reports(dmesg())).toEqual([]);
    as(b, () => lock_in_order(inner, outer));
    const log = dmesg();
    expect(reports(log)).toEqual([CIRCULAR]);
    const at = log.indexOf(CIRCULAR);
    const pid = task_pid(b);
    expect(log.slice(at - 2, at + 5)).toEqual([
      '',
      '======================================================',
      CIRCULAR,
      `${utsname.release} #1 Not tainted`,
      '------------------------------------------------------',
      `task-b/${pid} is trying to acquire lock:`,
      expect.stringMatching(
        /^[0-9a-f]{8} \(mm->page_table_lock\)\{\+\.\+\.\}-\{2:2\}, at: lock_in_order \(test\/lockdep\.test\.ts:\d+\)$/,
      ),
    ]);
    const rest = log.slice(at + 5);
    expect(rest).toContain('but task is already holding lock:');
    expect(rest.some((l) => /^[0-9a-f]{8} \(ptlock\)\{\+\.\+\.\}-\{2:2\}, at: lock_in_order/.test(l))).toBe(
      true,
    );
    expect(rest).toContain('which lock already depends on the new lock.');
    expect(rest).toContain('the existing dependency chain (in reverse order) is:');
    // #1: the edge mm->page_table_lock -> ptlock, with the stack that first made it
    const e1 = rest.indexOf('-> #1 (ptlock){+.+.}-{2:2}:');
    expect(e1).toBeGreaterThan(0);
    expect(rest[e1 + 1]).toMatch(/^ {7}lock_acquire \(kernel\/locking\/lockdep\.ts:\d+\)$/);
    expect(rest.slice(e1 + 1, e1 + 4)).toContainEqual(
      expect.stringMatching(/^ {7}spin_lock \(kernel\/locking\/spinlock\.ts:/),
    );
    expect(rest).toContain('-> #0 (mm->page_table_lock){+.+.}-{2:2}:');
    const o = rest.indexOf('other info that might help us debug this:');
    expect(rest.slice(o, o + 14)).toEqual([
      'other info that might help us debug this:',
      '',
      ' Possible unsafe locking scenario:',
      '',
      '       CPU0                    CPU1',
      '       ----                    ----',
      '  lock(ptlock);',
      '                               lock(mm->page_table_lock);',
      '                               lock(ptlock);',
      '  lock(mm->page_table_lock);',
      '',
      ' *** DEADLOCK ***',
      '',
      `1 lock held by task-b/${pid}:`,
    ]);
    expect(rest[o + 14]).toMatch(/^ #0: [0-9a-f]{8} \(ptlock\)\{\+\.\+\.\}-\{2:2\}, at: lock_in_order/);
    expect(rest).toContain('stack backtrace:');
    expect(rest.some((l) => l.startsWith(`CPU: -1 PID: ${pid} Comm: task-b`))).toBe(true);
    // the locks themselves were taken and released normally
    expect(cpuCtx.preemptCount).toBe(0);
  });

  it('a consistent A -> B order repeated on both tasks is silent; the first inversion is not', () => {
    const { dmesg, outer, inner, a, b } = setup();
    for (let i = 0; i < 5; i++) {
      as(a, () => lock_in_order(outer, inner));
      as(b, () => lock_in_order(outer, inner));
    }
    as(b, () => {
      spin_lock(outer);
      lockdep_assert_held(outer); // tracked, and held
      spin_unlock(outer);
    });
    expect(reports(dmesg())).toEqual([]);
    as(a, () => lock_in_order(inner, outer));
    expect(reports(dmesg())).toEqual([CIRCULAR]);
  });

  it('reports once: after the first report debug_locks is off and lockdep goes quiet', () => {
    const { dmesg, mm, outer, inner, a, b } = setup();
    as(a, () => lock_in_order(outer, inner));
    as(b, () => lock_in_order(inner, outer));
    expect(reports(dmesg())).toEqual([CIRCULAR]);
    as(a, () => lock_in_order(outer, inner));
    as(b, () => lock_in_order(inner, outer));
    // even a new, different inversion and a missing lock are not reported any more
    const sem = mm + MM.mmap_sem;
    init_rwsem(sem, '&mm->mmap_sem');
    as(a, () => {
      down_write(sem);
      spin_lock(outer);
      spin_unlock(outer);
      up_write(sem);
      lockdep_assert_held(sem);
    });
    expect(reports(dmesg())).toEqual([CIRCULAR]);
  });

  it('with lockdep off, the same inversion and a missing lock say nothing', () => {
    const { dmesg, outer, inner, a, b } = setup(false);
    as(a, () => lock_in_order(outer, inner));
    as(b, () => lock_in_order(inner, outer));
    as(a, () => lockdep_assert_held(outer));
    expect(reports(dmesg())).toEqual([]);
  });

  it('a longer cycle through three classes prints the chain and the rlock of a reader', () => {
    const { dmesg, mm, outer, inner, a, b } = setup();
    const sem = mm + MM.mmap_sem;
    init_rwsem(sem, '&mm->mmap_sem');
    as(a, () => {
      down_read(sem);
      spin_lock(outer);
      spin_unlock(outer);
      up_read(sem);
    });
    as(b, () => lock_in_order(outer, inner));
    const c = spawnTask('task-c');
    as(c, () => {
      spin_lock(inner);
      spin_unlock(inner);
    });
    expect(reports(dmesg())).toEqual([]);
    // c holds ptlock and sleeps on mmap_sem: ptlock -> mmap_sem closes mmap_sem -> page_table_lock -> ptlock
    as(c, () => {
      cpuCtx.preemptCount--; // keep might_sleep quiet: this test is about lockdep only
      spin_lock(inner);
      down_read(sem);
      up_read(sem);
      spin_unlock(inner);
      cpuCtx.preemptCount++;
    });
    const log = dmesg();
    expect(reports(log)).toEqual([CIRCULAR]);
    expect(log).toContain('-> #2 (ptlock){+.+.}-{2:2}:');
    expect(log).toContain('-> #1 (mm->page_table_lock){+.+.}-{2:2}:');
    expect(log).toContain('-> #0 (&mm->mmap_sem){.+.+}-{3:3}:');
    const ch = log.indexOf('Chain exists of:');
    expect(log.slice(ch, ch + 2)).toEqual([
      'Chain exists of:',
      '  &mm->mmap_sem --> mm->page_table_lock --> ptlock',
    ]);
    expect(log).toContain('  lock(ptlock);');
    expect(log).toContain('  rlock(&mm->mmap_sem);');
  });
});

describe('lockdep: recursive locking', () => {
  it('two locks of one class nested is reported; two classes nested is not', () => {
    const { dmesg, outer, inner, a } = setup();
    const other = mm_alloc() + MM.page_table_lock;
    spin_lock_init(other, 'ptlock');
    as(a, () => lock_in_order(outer, inner));
    expect(reports(dmesg())).toEqual([]);
    as(a, () => lock_in_order(inner, other));
    const log = dmesg();
    expect(reports(log)).toEqual(['WARNING: possible recursive locking detected']);
    const s = log.indexOf(' Possible unsafe locking scenario:');
    expect(log.slice(s, s + 10)).toEqual([
      ' Possible unsafe locking scenario:',
      '',
      '       CPU0',
      '       ----',
      '  lock(ptlock);',
      '  lock(ptlock);',
      '',
      ' *** DEADLOCK ***',
      '',
      ' May be due to missing lock nesting notation',
    ]);
  });
});

describe('lockdep: nesting annotations (subclasses)', () => {
  /** Two mm's mmap_sems (one class, &mm->mmap_sem), as fork holds the parent's and the child's. */
  function twoMms() {
    const env = setup();
    const parent = mm_alloc();
    const child = mm_alloc();
    mmap_init_lock(parent);
    mmap_init_lock(child);
    return { ...env, p: parent + MM.mmap_sem, c: child + MM.mmap_sem };
  }

  it('down_write_nested(SINGLE_DEPTH_NESTING) under a lock of its class is silent; plain down_write is not', () => {
    const { dmesg, p, c, a, b } = twoMms();
    as(a, () => {
      down_write(p);
      down_write_nested(c, SINGLE_DEPTH_NESTING);
      up_write(c);
      down_read_nested(c, SINGLE_DEPTH_NESTING);
      up_read(c);
      up_write(p);
    });
    expect(reports(dmesg())).toEqual([]);
    as(b, () => {
      down_write(p);
      down_write(c); // the annotation left out
      up_write(c);
      up_write(p);
    });
    expect(reports(dmesg())).toEqual(['WARNING: possible recursive locking detected']);
  });

  it('a subclass is a class of its own, printed name/N, and its edges are checked like any other', () => {
    const { dmesg, p, c, a, b } = twoMms();
    as(a, () => {
      down_write(p);
      down_write_nested(c, SINGLE_DEPTH_NESTING); // &mm->mmap_sem -> &mm->mmap_sem/1
      up_write(c);
      up_write(p);
    });
    expect(reports(dmesg())).toEqual([]);
    as(b, () => {
      down_write_nested(c, SINGLE_DEPTH_NESTING);
      down_write(p); // &mm->mmap_sem/1 -> &mm->mmap_sem: the cycle
      up_write(p);
      up_write(c);
    });
    const log = dmesg();
    expect(reports(log)).toEqual([CIRCULAR]);
    // (the usage bits are the class's across this file's tests: the first one took it for reading too)
    expect(log).toContainEqual(
      expect.stringMatching(/^-> #1 \(&mm->mmap_sem\/1\)\{\+[.+]\+[.+]\}-\{3:3\}:$/),
    );
    expect(log).toContain('  lock(&mm->mmap_sem/1);');
  });

  it('spin_lock_nested: the second PTE lock of copy_pte_range() is silent, and a subclass past MAX_LOCK_SUBCLASSES is a BUG', () => {
    const { dmesg, inner, a } = setup();
    const src = mm_alloc() + MM.page_table_lock;
    spin_lock_init(src, 'ptlock');
    as(a, () => {
      spin_lock(inner);
      spin_lock_nested(src, SINGLE_DEPTH_NESTING);
      spin_unlock(src);
      spin_unlock(inner);
    });
    expect(reports(dmesg())).toEqual([]);
    as(a, () => {
      spin_lock(inner);
      spin_lock_nested(src, MAX_LOCK_SUBCLASSES);
      spin_unlock(src);
      spin_unlock(inner);
    });
    const log = dmesg();
    expect(log).toContain(`BUG: looking up invalid subclass: ${MAX_LOCK_SUBCLASSES}`);
    expect(log).toContain('turning off the locking correctness validator.');
    expect(cpuCtx.preemptCount).toBe(0);
  });
});

describe('lockdep_assert_held and the mmap_lock assertions', () => {
  it('are silent when the lock is held as asked', () => {
    const { dmesg, mm, outer, a } = setup();
    mmap_init_lock(mm);
    as(a, () => {
      spin_lock(outer);
      lockdep_assert_held(outer);
      spin_unlock(outer);
      mmap_write_lock(mm);
      mmap_assert_write_locked(mm);
      mmap_assert_locked(mm);
      mmap_write_unlock(mm);
      mmap_read_lock(mm);
      mmap_assert_locked(mm);
      mmap_read_unlock(mm);
    });
    expect(reports(dmesg())).toEqual([]);
  });

  it('lockdep_assert_held WARNs when current does not hold the lock, even if another task does', () => {
    const { dmesg, outer, a, b } = setup();
    as(b, () => spin_lock(outer));
    as(a, function assert_outer() {
      lockdep_assert_held(outer);
    });
    const warn = reports(dmesg());
    expect(warn).toHaveLength(1);
    expect(warn[0]).toMatch(
      new RegExp(`^WARNING: CPU: -1 PID: ${task_pid(a)} at test/lockdep\\.test\\.ts:\\d+ assert_outer$`),
    );
    as(b, () => spin_unlock(outer));
  });

  it('mmap_assert_write_locked WARNs under the read lock; mmap_assert_locked does not', () => {
    const { dmesg, mm, a } = setup();
    mmap_init_lock(mm);
    as(a, function fault_path() {
      mmap_read_lock(mm);
      mmap_assert_locked(mm);
      mmap_assert_write_locked(mm);
      mmap_read_unlock(mm);
    });
    const warn = reports(dmesg());
    expect(warn).toHaveLength(1);
    expect(warn[0]).toMatch(
      new RegExp(`^WARNING: CPU: -1 PID: ${task_pid(a)} at test/lockdep\\.test\\.ts:\\d+ fault_path$`),
    );
  });

  it('mmap_assert_locked WARNs when the mm is not locked at all', () => {
    const { dmesg, mm, a } = setup();
    mmap_init_lock(mm);
    as(a, () => mmap_assert_locked(mm));
    expect(reports(dmesg())).toHaveLength(1);
    expect(reports(dmesg())[0]).toMatch(/^WARNING: CPU: -1 PID: \d+ at test\/lockdep\.test\.ts:\d+$/);
  });
});
