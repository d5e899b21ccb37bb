// task_lock(), find_lock_task_mm(), exit_mm() and the task_struct's life after do_exit() (v4.14).
// On the boot CPU: find_lock_task_mm() past exit_mm(), the delayed free (not while current; after
// the switch away and a grace period), lockdep at exit without a special case for freed tasks. On
// workers, bounded DFS over test/fixtures/task-lock.mjs (2 CPUs): exit_mm() clears ->mm under
// task_lock, and exit_oom_victim() wakes oom_killer_disable() on oom_victims_wait. Measured on the
// 2-core host: task-lock 402 schedules, no-task-lock 255 (26 hit), oom-victims-wait 677; ~1 s each.
import { afterEach, describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { do_exit, exit_mm } from '../src/kernel/exit.js';
import { mm_alloc, mm_cachep, spawnTask, task_struct_cachep } from '../src/kernel/fork.js';
import { lockdepReset } from '../src/kernel/locking/lockdep.js';
import { lockdepDepth } from '../src/kernel/locking/lockdep_held.js';
import { debug_locks, lockdep_enable } from '../src/kernel/locking/lockdep_state.js';
import { spin_is_locked, spin_lock, spin_lock_init } from '../src/kernel/locking/spinlock.js';
import { rcu_barrier, rcuCallbacksPending } from '../src/kernel/rcu/callbacks.js';
import { task_unlock } from '../src/kernel/task_lock.js';
import { TASK, TASK_DEAD, task_pid } from '../src/kernel/task_struct.js';
import { switchToIdle } from '../src/kernel/task_switch.js';
import { kasanReports, kread } from '../src/mm/kasan.js';
import { MM } from '../src/mm/mm_types.js';
import { find_lock_task_mm } from '../src/mm/oom_kill.js';
import { POISON_FREE, slab_is_live } from '../src/mm/slab.js';
import { mem } from '../src/shm/arena.js';
import { boot, reports } from './helpers/boot.js';
import { json, mmrace } from './helpers/cli.js';

const UAF = /^BUG: KASAN: slab-use-after-free in /;

/** A fresh kernel, a victim with an mm of its own, and another task as current. */
function setup(on = false) {
  const { dmesg } = boot('v4.14');
  lockdepReset();
  lockdep_enable(on);
  const mm = mm_alloc();
  const victim = spawnTask('victim', { mm });
  const killer = spawnTask('oom-killer');
  cpuCtx.current = killer;
  return { dmesg, mm, victim, killer };
}

const live = (t: number) => slab_is_live(task_struct_cachep, t);

afterEach(() => {
  lockdep_enable(false);
  cpuCtx.current = 0;
  cpuCtx.preemptCount = 0;
});

describe('find_lock_task_mm', () => {
  it('returns the task with task_lock held while its ->mm is set', () => {
    const { victim, mm } = setup();
    const p = find_lock_task_mm(victim);
    expect(p).toBe(victim);
    expect(spin_is_locked(victim + TASK.alloc_lock)).toBe(true);
    expect(kread(p + TASK.mm)).toBe(mm);
    task_unlock(p);
    expect(spin_is_locked(victim + TASK.alloc_lock)).toBe(false);
    expect(cpuCtx.preemptCount).toBe(0); // rcu_read_unlock() and task_unlock() balanced
  });

  it('returns NULL, with no lock left held, for a task past exit_mm()', () => {
    const { victim, killer } = setup();
    cpuCtx.current = victim;
    exit_mm();
    expect(Atomics.load(mem.i32, victim + TASK.mm)).toBe(0);
    cpuCtx.current = killer;
    expect(find_lock_task_mm(victim)).toBe(0);
    expect(spin_is_locked(victim + TASK.alloc_lock)).toBe(false);
    expect(cpuCtx.preemptCount).toBe(0);
  });
});

describe('the task_struct after do_exit()', () => {
  it('is not freed while current; the switch away and a grace period free it', () => {
    const { dmesg, victim } = setup();
    cpuCtx.current = victim;
    do_exit(9);
    // do_task_dead(): still current, TASK_DEAD, every field readable.
    expect(cpuCtx.current).toBe(victim);
    expect(Atomics.load(mem.i32, victim + TASK.__state)).toBe(TASK_DEAD);
    expect(kread(victim + TASK.pid)).toBe(task_pid(victim));
    rcu_barrier(); // release_task()'s put, a grace period later: the "current" reference remains
    expect(live(victim)).toBe(true);
    expect(kread(victim + TASK.flags)).not.toBe(POISON_FREE);
    expect(kasanReports()).toBe(0);
    switchToIdle(); // finish_task_switch(): the last reference
    expect(cpuCtx.current).toBe(0);
    expect(live(victim)).toBe(false);
    kread(victim + TASK.pid); // a stale pointer
    expect(kasanReports()).toBe(1);
    expect(reports(dmesg()).filter((l) => UAF.test(l))).toHaveLength(1);
  });

  it('after the switch away, lives until the grace period has run release_task()s put', () => {
    const { dmesg, victim, mm } = setup();
    cpuCtx.current = victim;
    do_exit(9);
    switchToIdle();
    expect(live(victim)).toBe(true);
    expect(rcuCallbacksPending()).toBe(1);
    // The mm went with the last lazy-TLB reference at the switch.
    expect(slab_is_live(mm_cachep, mm)).toBe(false);
    kread(victim + TASK.pid);
    expect(kasanReports()).toBe(0);
    rcu_barrier();
    expect(live(victim)).toBe(false);
    kread(victim + TASK.pid);
    expect(reports(dmesg()).filter((l) => UAF.test(l))).toHaveLength(1);
  });
});

describe('lockdep at exit, with no special case for a freed current', () => {
  it('a clean exit and the final free under lockdep report nothing and keep lockdep on', () => {
    const { dmesg, victim } = setup(true);
    cpuCtx.current = victim;
    do_exit(9);
    rcu_barrier();
    // The final free takes the slab's spinlock: lockdep must find a task (or none) as current,
    // not a poisoned task_struct, whose lockdep_depth reads as POISON_FREE.
    switchToIdle();
    expect(live(victim)).toBe(false);
    expect(Atomics.load(mem.i32, victim + TASK.lockdep_depth)).toBe(POISON_FREE);
    expect(reports(dmesg())).toEqual([]);
    expect(debug_locks()).toBe(true);
  });

  it('debug_check_no_locks_held() in do_exit reads the exiting task: a held lock is a WARNING', () => {
    const { dmesg, mm } = setup(true);
    const holder = spawnTask('holder'); // no mm: exit_mm() has nothing to do
    const lock = mm + MM.page_table_lock;
    spin_lock_init(lock, 'held_at_exit');
    cpuCtx.current = holder;
    spin_lock(lock);
    do_exit(9);
    expect(lockdepDepth(holder)).toBe(1);
    const log = dmesg();
    const at = log.indexOf(`WARNING: holder/${task_pid(holder)} still has locks held!`);
    expect(at).toBeGreaterThan(0);
    expect(log.slice(at + 3, at + 5)).toEqual([
      `1 lock held by holder/${task_pid(holder)}:`,
      expect.stringMatching(/^ #0: [0-9a-f]{8} \(held_at_exit\)\{\+\.\+\.\}-\{2:2\}, at: /),
    ]);
    expect(debug_locks()).toBe(false);
  });
});

type Row = {
  observed: string;
  runs: number;
  explored: number;
  hits: number;
  checkFailures: number;
  error: string | null;
  firstHit: { summary: string } | null;
};

function dfs(variant: string): Row {
  const args = ['run', 'test/fixtures/task-lock.mjs', '--variant', variant, '--strategy', 'dfs'];
  const r = mmrace([...args, '--preemptions', '2', '--runs', '1000000', '--json'], 60_000);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0); // the variant's verdict matched its expectation
  const row = json<{ rows: Row[] }>(r).rows[0]!;
  expect(row.error).toBeNull();
  expect(row.runs).toBeLessThan(1_000_000); // dfs ran out of schedules
  expect(row.explored).toBe(row.runs);
  return row;
}

describe('on 2 CPUs, every schedule with up to 2 preemptions (bounded DFS)', { timeout: 90_000 }, () => {
  it('exit_mm() clears ->mm under task_lock: find_lock_task_mm() never sees it change', () => {
    const row = dfs('task-lock');
    expect(row).toMatchObject({ observed: 'clean', hits: 0, checkFailures: 0 });
    expect(row.explored).toBeGreaterThan(200);
  });

  it('the same reads without task_lock see ->mm cleared between them', () => {
    const row = dfs('no-task-lock');
    expect(row.observed).toBe('reproduces');
    expect(row.firstHit?.summary).toBe('BUG: victim->mm changed');
  });

  it('exit_oom_victim() wakes oom_killer_disable() on oom_victims_wait', () => {
    const row = dfs('oom-victims-wait');
    expect(row).toMatchObject({ observed: 'clean', hits: 0, checkFailures: 0 });
    expect(row.explored).toBeGreaterThan(300);
  });
});
