// v4.14's rw_semaphore (src/kernel/locking/rwsem_xadd.ts: rwsem-xadd.c with x86's fast paths), on
// the boot CPU: the count arithmetic, the wait-list rules that set it apart from v6.6's (a queued
// reader joins active readers only from the head of an empty queue, the wakeup stops at the first
// writer, no handoff), downgrade_write, the era dispatch, and the OSQ. Waiters are queued the way the
// slow paths queue them (white-box), or a scripted runner plays the other tasks while one sleeps.
// Multi-CPU exclusion: test/fixtures/rwsem-stress.mjs (xadd variants) and the DFS fixtures.
import { afterEach, describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { BootRunner } from '../src/cpu/free.js';
import type { Runner, WaitResult } from '../src/cpu/runner.js';
import { applyEra, eraByName } from '../src/eras/index.js';
import { rwsemHolders } from '../src/kernel/deadlock_report.js';
import { mm_alloc, spawnTask } from '../src/kernel/fork.js';
import { osq_is_locked, osq_lock, osq_lock_init, osq_unlock } from '../src/kernel/locking/osq_lock.js';
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
  is_rwsem_reader_owned,
  RWSEM,
  RWSEM_ACTIVE_WRITE_BIAS,
  RWSEM_READER_OWNED_V4_14,
  RWSEM_WAITING_BIAS,
  RWSEM_WAITING_FOR_READ,
  RWSEM_WAITING_FOR_WRITE,
  RWSEM_WRITER_LOCKED,
  rwsem_owner,
  rwsem_reader_count,
  rwsem_waiters,
  up_read,
  up_write,
} from '../src/kernel/locking/rwsem.js';
import { rwsemOps } from '../src/kernel/locking/rwsem_ops.js';
import { TASK, TASK_RUNNING, TASK_UNINTERRUPTIBLE } from '../src/kernel/task_struct.js';
import { MM } from '../src/mm/mm_types.js';
import { mem } from '../src/shm/arena.js';
import { boot } from './helpers/boot.js';

const i32 = () => mem.i32;
const count = (sem: number) => Atomics.load(i32(), sem + RWSEM.count);
const owner = (sem: number) => Atomics.load(i32(), sem + RWSEM.owner);
const granted = (t: number) => Atomics.load(i32(), t + TASK.w_task) === 0;
const running = (t: number) => Atomics.load(i32(), t + TASK.__state) === TASK_RUNNING;
const usage = (t: number) => Atomics.load(i32(), t + TASK.usage);
const queue = (sem: number) => rwsem_waiters(sem).map((w) => w.task);

function xaddSem(): number {
  boot('v4.14');
  const sem = mm_alloc() + MM.mmap_sem; // an rwsem embedded in a live object
  init_rwsem(sem);
  return sem;
}

/** Queue `t` as rwsem-xadd.c's slow paths do: the first waiter brings RWSEM_WAITING_BIAS. */
function enqueue(sem: number, t: number, type: number): void {
  const m = i32();
  const last = m[sem + RWSEM.wait_last]!;
  m[t + TASK.w_task] = t;
  m[t + TASK.w_type] = type;
  m[t + TASK.w_next] = 0;
  m[t + TASK.w_prev] = last;
  m[t + TASK.w_lock] = sem;
  if (last) m[last + TASK.w_next] = t;
  else {
    m[sem + RWSEM.wait_first] = t;
    Atomics.add(m, sem + RWSEM.count, RWSEM_WAITING_BIAS);
  }
  m[sem + RWSEM.wait_last] = t;
  Atomics.store(m, t + TASK.__state, TASK_UNINTERRUPTIBLE);
}

/** Runs `f` as task `t` on this (boot) CPU. */
function as(t: number, f: () => void): void {
  const me = cpuCtx.current;
  cpuCtx.current = t;
  try {
    f();
  } finally {
    cpuCtx.current = me;
  }
}

/** A runner whose sleeps and points are scripted; each sleep advances the clock 10 ms. */
class ScriptedRunner extends BootRunner implements Runner {
  clockMs = 0;
  waits = 0;
  constructor(
    private readonly steps: (() => void)[],
    private readonly points: Record<string, () => void> = {},
  ) {
    super();
  }
  override point(id: string): void {
    this.points[id]?.();
  }
  override wait(_addr: number, _expected: number, _timeoutMs: number): WaitResult {
    this.waits++;
    this.clockMs += 10;
    const step = this.steps.shift();
    if (!step) throw new Error('slept more often than scripted');
    step();
    return 'ok';
  }
  override now(): number {
    return this.clockMs;
  }
}

afterEach(() => {
  cpuCtx.runner = new BootRunner();
  cpuCtx.cpu = -1;
});

describe('rwsem-xadd fast paths (x86)', () => {
  it('readers add 1, a writer RWSEM_ACTIVE_WRITE_BIAS; the owner is the writer or the fake reader owner', () => {
    const sem = xaddSem();
    const t = spawnTask('locker');
    cpuCtx.current = t;
    down_read(sem);
    down_read(sem);
    expect(count(sem)).toBe(2);
    expect(owner(sem)).toBe(RWSEM_READER_OWNED_V4_14);
    expect(is_rwsem_reader_owned(sem)).toBe(true);
    expect(rwsem_owner(sem)).toBe(0); // readers are anonymous in v4.14
    expect(rwsem_reader_count(sem)).toBe(2);
    expect(down_write_trylock(sem)).toBe(false); // the active part is not 0
    up_read(sem);
    up_read(sem);
    expect(count(sem)).toBe(0);
    down_write(sem);
    expect(count(sem)).toBe(RWSEM_ACTIVE_WRITE_BIAS); // 0xffff0001
    expect(owner(sem)).toBe(t);
    expect(down_read_trylock(sem)).toBe(false);
    expect(count(sem)).toBe(RWSEM_ACTIVE_WRITE_BIAS); // the failed trylock left nothing
    downgrade_write(sem);
    expect(count(sem)).toBe(1);
    expect(owner(sem)).toBe(RWSEM_READER_OWNED_V4_14);
    up_read(sem);
    expect(count(sem)).toBe(0);
  });

  it('the write fast path steals the lock from queued waiters when nobody is active', () => {
    const sem = xaddSem();
    const r = spawnTask('queued reader');
    // The window between the last release and the waiters' wakeup: waiters, nobody active.
    enqueue(sem, r, RWSEM_WAITING_FOR_READ);
    expect(count(sem)).toBe(RWSEM_WAITING_BIAS);
    cpuCtx.current = spawnTask('writer');
    cpuCtx.runner = new ScriptedRunner([]); // a sleep would throw
    down_write(sem);
    expect(count(sem)).toBe(RWSEM_WAITING_BIAS + RWSEM_ACTIVE_WRITE_BIAS);
    expect(queue(sem)).toEqual([r]);
    up_write(sem); // negative, nobody active: rwsem_wake() grants the reader
    expect(granted(r) && running(r)).toBe(true);
    expect(count(sem)).toBe(1);
    expect(queue(sem)).toEqual([]);
  });

  it('a killed writer leaves the count as it found it', () => {
    const sem = xaddSem();
    cpuCtx.current = spawnTask('reader');
    down_read(sem);
    cpuCtx.current = spawnTask('writer');
    Atomics.store(i32(), cpuCtx.current + TASK.pending_sigkill, 1);
    expect(down_write_killable(sem)).toBe(-EINTR);
    expect(count(sem)).toBe(1); // its bias undone, RWSEM_WAITING_BIAS gone with the last waiter
    expect(queue(sem)).toEqual([]);
  });
});

describe('__rwsem_mark_wake and the reader slow path', () => {
  it('a reader that queues first while only readers are active joins them at once', () => {
    const sem = xaddSem();
    const holder = spawnTask('holder');
    const writer = spawnTask('writer');
    const r = spawnTask('reader');
    as(holder, () => down_read(sem));
    // A writer's fast path is in flight: its bias makes the count negative...
    Atomics.add(i32(), sem + RWSEM.count, RWSEM_ACTIVE_WRITE_BIAS);
    // ...so the reader's inc fails; the writer backs its bias out before the reader takes wait_lock.
    cpuCtx.runner = new ScriptedRunner([], {
      rwsem_down_read_failed: () => Atomics.sub(i32(), sem + RWSEM.count, RWSEM_ACTIVE_WRITE_BIAS),
    });
    as(r, () => down_read(sem));
    expect((cpuCtx.runner as ScriptedRunner).waits).toBe(0); // granted by its own wakeup, no sleep
    expect(count(sem)).toBe(2);
    expect(queue(sem)).toEqual([]);
    void writer;
  });

  it('a reader queued behind a waiter sleeps even though only readers hold the lock', () => {
    const sem = xaddSem();
    const holder = spawnTask('holder');
    const w = spawnTask('queued writer');
    const r = spawnTask('late reader');
    as(holder, () => down_read(sem));
    enqueue(sem, w, RWSEM_WAITING_FOR_WRITE);
    const seen: { q: number[]; granted: boolean; count: number }[] = [];
    cpuCtx.runner = new ScriptedRunner([
      () => {
        seen.push({ q: queue(sem), granted: granted(r), count: count(sem) });
        Atomics.store(i32(), r + TASK.pending_sigkill, 1);
      },
    ]);
    cpuCtx.current = r;
    expect(down_read_killable(sem)).toBe(-EINTR);
    expect(seen).toEqual([{ q: [w, r], granted: false, count: RWSEM_WAITING_BIAS + 1 }]);
    expect(queue(sem)).toEqual([w]); // it left; the writer keeps the waiting bias
    expect(count(sem)).toBe(RWSEM_WAITING_BIAS + 1);
  });

  it('the wakeup grants the readers at the head and stops at the first writer', () => {
    const sem = xaddSem();
    cpuCtx.current = spawnTask('holder');
    down_write(sem);
    const [r1, r2, w, r3] = ['r1', 'r2', 'w', 'r3'].map((n) => spawnTask(n)) as [
      number,
      number,
      number,
      number,
    ];
    enqueue(sem, r1, RWSEM_WAITING_FOR_READ);
    enqueue(sem, r2, RWSEM_WAITING_FOR_READ);
    enqueue(sem, w, RWSEM_WAITING_FOR_WRITE);
    enqueue(sem, r3, RWSEM_WAITING_FOR_READ);
    up_write(sem);
    expect([r1, r2].every((t) => granted(t) && running(t))).toBe(true);
    expect([r1, r2].every((t) => usage(t) === 2)).toBe(true); // wake_q's reference dropped
    expect(granted(r3) || running(r3) || running(w)).toBe(false); // v6.6 would grant r3 too
    expect(queue(sem)).toEqual([w, r3]);
    expect(count(sem)).toBe(RWSEM_WAITING_BIAS + 2);
  });

  it('a writer at the head is woken, not granted', () => {
    const sem = xaddSem();
    cpuCtx.current = spawnTask('reader');
    down_read(sem);
    const w = spawnTask('writer');
    const r = spawnTask('reader behind');
    enqueue(sem, w, RWSEM_WAITING_FOR_WRITE);
    enqueue(sem, r, RWSEM_WAITING_FOR_READ);
    up_read(sem);
    expect(running(w)).toBe(true);
    expect(granted(w) || running(r)).toBe(false);
    expect(count(sem)).toBe(RWSEM_WAITING_BIAS); // nothing granted
  });

  it('downgrade_write grants the readers at the head, none past a writer', () => {
    const sem = xaddSem();
    cpuCtx.current = spawnTask('holder');
    down_write(sem);
    const [r1, r2, w, r3] = ['r1', 'r2', 'w', 'r3'].map((n) => spawnTask(n)) as [
      number,
      number,
      number,
      number,
    ];
    enqueue(sem, r1, RWSEM_WAITING_FOR_READ);
    enqueue(sem, r2, RWSEM_WAITING_FOR_READ);
    enqueue(sem, w, RWSEM_WAITING_FOR_WRITE);
    enqueue(sem, r3, RWSEM_WAITING_FOR_READ);
    downgrade_write(sem);
    expect([r1, r2].every((t) => granted(t) && running(t))).toBe(true);
    expect(granted(r3) || running(w)).toBe(false);
    expect(queue(sem)).toEqual([w, r3]);
    expect(count(sem)).toBe(RWSEM_WAITING_BIAS + 3); // the downgraded holder and two readers
    expect(owner(sem)).toBe(RWSEM_READER_OWNED_V4_14);
    up_read(sem);
    expect(count(sem)).toBe(RWSEM_WAITING_BIAS + 2); // still active readers: no wakeup
    expect(running(w)).toBe(false);
  });

  it('downgrade_write with a writer at the head grants nobody', () => {
    const sem = xaddSem();
    cpuCtx.current = spawnTask('holder');
    down_write(sem);
    const w = spawnTask('w');
    const r = spawnTask('r');
    enqueue(sem, w, RWSEM_WAITING_FOR_WRITE);
    enqueue(sem, r, RWSEM_WAITING_FOR_READ);
    downgrade_write(sem);
    expect(granted(r) || running(r) || running(w)).toBe(false);
    expect(count(sem)).toBe(RWSEM_WAITING_BIAS + 1);
  });
});

describe('no handoff', () => {
  it('a writer waiting far past RWSEM_WAIT_TIMEOUT is passed by a newcomer, and nothing marks it', () => {
    const sem = xaddSem();
    const reader = spawnTask('reader');
    const writer = spawnTask('writer');
    const stealer = spawnTask('stealer');
    const seen: number[] = [];
    const runner = new ScriptedRunner([
      // 1st sleep (10 ms, > 4 jiffies): a spurious wakeup; the reader is still active.
      () => Atomics.store(i32(), writer + TASK.__state, TASK_RUNNING),
      // 2nd sleep (20 ms): the reader leaves and wakes the writer; before it runs, a newcomer's
      // write trylock wins (x86: the active part is 0).
      () => {
        as(reader, () => up_read(sem));
        seen.push(running(writer) ? 1 : 0);
        as(stealer, () => seen.push(down_write_trylock(sem) ? 1 : 0));
        seen.push(count(sem));
      },
      // 3rd sleep: the newcomer leaves; now the writer gets it.
      () => as(stealer, () => up_write(sem)),
    ]);
    cpuCtx.runner = runner;
    as(reader, () => down_read(sem));
    cpuCtx.current = writer;
    expect(down_write_killable(sem)).toBe(0);
    expect(seen).toEqual([1, 1, RWSEM_WAITING_BIAS + RWSEM_ACTIVE_WRITE_BIAS]);
    expect(runner.waits).toBe(3);
    expect(runner.clockMs).toBeGreaterThan(4 * 4); // it waited well past RWSEM_WAIT_TIMEOUT
    expect(count(sem)).toBe(RWSEM_ACTIVE_WRITE_BIAS);
    expect(owner(sem)).toBe(writer);
    up_write(sem);
    expect(count(sem)).toBe(0);
  });
});

describe('era dispatch', () => {
  it('the era profile picks the algorithm behind the same entry points', () => {
    const sem = xaddSem();
    cpuCtx.current = spawnTask('t');
    expect(rwsemOps.name).toBe('rwsem-xadd.c (v4.14)');
    down_write(sem);
    expect(count(sem)).toBe(RWSEM_ACTIVE_WRITE_BIAS);
    up_write(sem);
    applyEra(eraByName('v6.6')!);
    expect(rwsemOps.name).toBe('rwsem.c (v6.6)');
    init_rwsem(sem);
    down_write(sem);
    expect(count(sem)).toBe(RWSEM_WRITER_LOCKED);
    up_write(sem);
    applyEra(eraByName('v4.15')!);
    expect(rwsemOps.name).toBe('rwsem-xadd.c (v4.14)'); // v4.15 still ran rwsem-xadd.c
  });

  it("the reports count v4.14's readers from the active half of the count", () => {
    const sem = xaddSem();
    const a = spawnTask('a');
    const w = spawnTask('w');
    as(a, () => down_read(sem));
    as(w, () => down_read(sem));
    enqueue(sem, spawnTask('q'), RWSEM_WAITING_FOR_WRITE);
    expect(rwsemHolders(sem, [])).toBe('2 reader(s) (--lockdep names every reader)');
  });
});

describe('osq_lock', () => {
  /** Runs the OSQ as CPU `cpu`. */
  const onCpu = (cpu: number, f: () => void) => {
    const me = cpuCtx.cpu;
    cpuCtx.cpu = cpu;
    try {
      f();
    } finally {
      cpuCtx.cpu = me;
    }
  };

  it('a second CPU queues behind the head and spins on its own node until the head hands over', () => {
    boot('v4.14');
    const lock = mm_alloc() + MM.mmap_sem + RWSEM.osq;
    osq_lock_init(lock);
    let got0 = false;
    let got1 = false;
    const tails: number[] = [];
    let relaxes = 0;
    cpuCtx.runner = Object.assign(new BootRunner(), {
      relax(_spins: number) {
        if (relaxes++ === 3) {
          tails.push(Atomics.load(i32(), lock));
          onCpu(0, () => osq_unlock(lock)); // CPU0 leaves: CPU1 is the head now
          tails.push(Atomics.load(i32(), lock));
        }
      },
    });
    onCpu(0, () => {
      got0 = osq_lock(lock);
    });
    expect(Atomics.load(i32(), lock)).toBe(1); // tail = CPU0 + 1
    onCpu(1, () => {
      got1 = osq_lock(lock);
    });
    expect([got0, got1]).toEqual([true, true]);
    expect(relaxes).toBe(4); // CPU1 spun until the handover, not before
    expect(tails).toEqual([2, 2]); // CPU1 was the tail throughout
    onCpu(1, () => osq_unlock(lock));
    expect(osq_is_locked(lock)).toBe(false);
  });

  it('a queued CPU that must reschedule (its spin bound) unqueues and gives the tail back', () => {
    boot('v4.14');
    const lock = mm_alloc() + MM.mmap_sem + RWSEM.osq;
    osq_lock_init(lock);
    onCpu(0, () => expect(osq_lock(lock)).toBe(true));
    let got = true;
    onCpu(1, () => {
      got = osq_lock(lock); // nobody unlocks: the bound ends the spin
    });
    expect(got).toBe(false);
    expect(Atomics.load(i32(), lock)).toBe(1); // the tail is CPU0 again
    onCpu(0, () => osq_unlock(lock));
    expect(osq_is_locked(lock)).toBe(false);
  });
});
