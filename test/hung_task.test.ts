// khungtaskd's check: a D-state task that has not run for the timeout is reported with what it
// waits on; running, killable and recently switched tasks are not. The clock is a scripted runner.
import { afterEach, describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { AbortReason, C, ctl } from '../src/cpu/control.js';
import { BootRunner } from '../src/cpu/free.js';
import { mm_alloc, spawnTask } from '../src/kernel/fork.js';
import { check_hung_uninterruptible_tasks, hung_task_reset } from '../src/kernel/hung_task.js';
import { down_write, init_rwsem } from '../src/kernel/locking/rwsem.js';
import { TASK, TASK_KILLABLE, TASK_UNINTERRUPTIBLE } from '../src/kernel/task_struct.js';
import { MM } from '../src/mm/mm_types.js';
import { Watchdogs } from '../src/scenarios/watchdogs.js';
import { mem } from '../src/shm/arena.js';
import { boot, reports } from './helpers/boot.js';
import { queueWaiter } from './helpers/rwsem_waiter.js';

let clockMs = 0;
afterEach(() => {
  cpuCtx.runner = new BootRunner();
});

function setup() {
  const { dmesg } = boot('v6.6'); // queueWaiter() queues as v6.6's rwsem does (RWSEM_FLAG_WAITERS)
  clockMs = 0;
  cpuCtx.runner = Object.assign(new BootRunner(), { now: () => clockMs });
  hung_task_reset();
  const sem = mm_alloc() + MM.mmap_sem;
  init_rwsem(sem);
  const holder = spawnTask('holder');
  cpuCtx.current = holder;
  down_write(sem);
  // A writer asleep in down_write(), queued behind the holder, as its slow path leaves it.
  const w = spawnTask('stuck');
  queueWaiter(sem, w, true);
  Atomics.store(mem.i32, w + TASK.__state, TASK_UNINTERRUPTIBLE);
  Atomics.store(mem.i32, w + TASK.nvcsw, 1);
  return { dmesg, w, holder };
}

describe('hung task detector', () => {
  it('reports a D-state task blocked past the timeout, with the rwsem, its owner and the queue', () => {
    const { dmesg, w } = setup();
    expect(check_hung_uninterruptible_tasks(120)).toBe(0); // first look: remembers the switch count
    clockMs = 121_000;
    expect(check_hung_uninterruptible_tasks(120)).toBe(1);
    const pid = Atomics.load(mem.i32, w + TASK.pid);
    expect(reports(dmesg())).toEqual([]);
    expect(dmesg()).toContain(`INFO: task stuck:${pid} blocked for more than 121 seconds.`);
    expect(dmesg().some((l) => /held by: holder\/\d+ \(W\)/.test(l))).toBe(true);
    expect(dmesg().some((l) => l.includes(`queue: stuck/${pid} (W)`))).toBe(true);
  });

  it('is silent for a task that was switched in meanwhile, and before the timeout', () => {
    const { dmesg, w } = setup();
    check_hung_uninterruptible_tasks(120);
    clockMs = 60_000;
    expect(check_hung_uninterruptible_tasks(120)).toBe(0);
    Atomics.add(mem.i32, w + TASK.nvcsw, 1); // it ran and slept again
    clockMs = 130_000;
    expect(check_hung_uninterruptible_tasks(120)).toBe(0);
    expect(dmesg().some((l) => l.startsWith('INFO: task'))).toBe(false);
  });

  it('ignores killable sleepers, as the kernel does', () => {
    const { dmesg, w } = setup();
    Atomics.store(mem.i32, w + TASK.__state, TASK_KILLABLE);
    check_hung_uninterruptible_tasks(120);
    clockMs = 500_000;
    expect(check_hung_uninterruptible_tasks(120)).toBe(0);
    expect(dmesg().some((l) => l.startsWith('INFO: task'))).toBe(false);
  });

  it('khungtaskd: a pass that leaves a D-state task under the timeout reports it on the next pass, then stops the run', () => {
    const { dmesg } = setup();
    const abort = () => Atomics.load(mem.i32, ctl() + C.ABORT);
    Atomics.store(mem.i32, ctl() + C.ABORT, AbortReason.None);
    const wd = new Watchdogs(600_000, 1, 0); // 120 s, the kernel's timeout, fits the run
    expect(wd.hungTaskSecs).toBe(120);
    wd.reset();
    wd.tick(); // first look at 'stuck'
    clockMs = 60_000;
    const late = spawnTask('late'); // blocks a minute after 'stuck'
    Atomics.store(mem.i32, late + TASK.__state, TASK_UNINTERRUPTIBLE);
    Atomics.store(mem.i32, late + TASK.nvcsw, 1);
    clockMs = 121_000;
    wd.tick();
    const said = (name: string) =>
      dmesg().some((l) => new RegExp(`^INFO: task ${name}:\\d+ blocked`).test(l));
    expect([said('stuck'), said('late'), abort()]).toEqual([true, false, AbortReason.None]);
    clockMs = 242_000;
    wd.tick();
    expect([said('late'), abort()]).toEqual([true, AbortReason.Hung]);
  });

  it('khungtaskd: a pass that reports every D-state task stops the run at once', () => {
    const { dmesg } = setup();
    Atomics.store(mem.i32, ctl() + C.ABORT, AbortReason.None);
    const wd = new Watchdogs(600_000, 1, 0);
    wd.reset();
    wd.tick();
    clockMs = 121_000;
    wd.tick();
    expect(dmesg().some((l) => /^INFO: task stuck:\d+ blocked/.test(l))).toBe(true);
    expect(Atomics.load(mem.i32, ctl() + C.ABORT)).toBe(AbortReason.Hung);
  });

  it('khungtaskd: while a CPU still runs after a report, the run goes on to the next pass (at most two more)', () => {
    const { dmesg } = setup();
    const i32 = mem.i32;
    const b = ctl();
    const abort = () => Atomics.load(i32, b + C.ABORT);
    Atomics.store(i32, b + C.ABORT, AbortReason.None);
    // Two CPUs: one asleep without a timeout ('stuck'), one still running.
    const saved = [C.NCPUS, C.DONE, C.TIMED_WAITERS, C.UNTIMED_WAITERS].map((w) => Atomics.load(i32, b + w));
    Atomics.store(i32, b + C.NCPUS, 2);
    Atomics.store(i32, b + C.DONE, 0);
    Atomics.store(i32, b + C.TIMED_WAITERS, 0);
    Atomics.store(i32, b + C.UNTIMED_WAITERS, 1);
    try {
      const wd = new Watchdogs(600_000, 1, 0);
      wd.reset();
      wd.tick();
      clockMs = 121_000;
      wd.tick();
      expect(dmesg().some((l) => /^INFO: task stuck:\d+ blocked/.test(l))).toBe(true);
      expect(abort()).toBe(AbortReason.None); // the other CPU runs: not settled
      Atomics.store(i32, b + C.UNTIMED_WAITERS, 2); // now it sleeps too
      clockMs = 242_000;
      wd.tick();
      expect(abort()).toBe(AbortReason.Hung);
      // A CPU that never settles (spinning) stops the run after two more passes.
      Atomics.store(i32, b + C.ABORT, AbortReason.None);
      Atomics.store(i32, b + C.UNTIMED_WAITERS, 1);
      wd.reset();
      // The first pass reports at once (blocked since 0), then two more passes, then the stop.
      const stops = [363_000, 484_000, 605_000].map((t) => {
        clockMs = t;
        wd.tick();
        return abort();
      });
      expect(stops).toEqual([AbortReason.None, AbortReason.None, AbortReason.Hung]);
    } finally {
      for (const [k, w] of [C.NCPUS, C.DONE, C.TIMED_WAITERS, C.UNTIMED_WAITERS].entries())
        Atomics.store(i32, b + w, saved[k]!);
    }
  });
});
