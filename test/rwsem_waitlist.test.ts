// rw_semaphore wait-list rules, on the boot CPU, with waiters queued the way the slow paths queue
// them (white-box: a queued task is its embedded rwsem_waiter record linked on sem->wait_list).
// The last test drives a writer's slow path with a scripted runner: its sleeps advance the clock
// and let a reader release, so the handoff happens deterministically.
import { afterEach, describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { BootRunner } from '../src/cpu/free.js';
import type { Runner, WaitResult } from '../src/cpu/runner.js';
import { mm_alloc, spawnTask } from '../src/kernel/fork.js';
import {
  down_read,
  down_read_killable,
  down_read_trylock,
  down_write,
  down_write_killable,
  downgrade_write,
  EINTR,
  init_rwsem,
  MAX_READERS_WAKEUP,
  RWSEM,
  RWSEM_FLAG_HANDOFF,
  RWSEM_FLAG_WAITERS,
  RWSEM_READER_BIAS,
  RWSEM_WAITING_FOR_READ,
  RWSEM_WAITING_FOR_WRITE,
  RWSEM_WRITER_LOCKED,
  rwsem_waiters,
  up_read,
  up_write,
} from '../src/kernel/locking/rwsem.js';
import { TASK, TASK_RUNNING, TASK_UNINTERRUPTIBLE } from '../src/kernel/task_struct.js';
import { MM } from '../src/mm/mm_types.js';
import { mem } from '../src/shm/arena.js';
import { boot } from './helpers/boot.js';

const i32 = () => mem.i32;

function rwsemOnLiveObject(): number {
  const sem = mm_alloc() + MM.mmap_sem;
  init_rwsem(sem);
  return sem;
}

/** Queue `t` as the slow path would: waiter record filled, linked at the tail, task asleep. */
function enqueue(sem: number, t: number, type: number, timeout = 1 << 30): void {
  const m = i32();
  const last = m[sem + RWSEM.wait_last]!;
  m[t + TASK.w_task] = t;
  m[t + TASK.w_type] = type;
  m[t + TASK.w_timeout] = timeout;
  m[t + TASK.w_handoff_set] = 0;
  m[t + TASK.w_next] = 0;
  m[t + TASK.w_prev] = last;
  m[t + TASK.w_lock] = sem;
  if (last) m[last + TASK.w_next] = t;
  else m[sem + RWSEM.wait_first] = t;
  m[sem + RWSEM.wait_last] = t;
  Atomics.or(m, sem + RWSEM.count, RWSEM_FLAG_WAITERS);
  Atomics.store(m, t + TASK.__state, TASK_UNINTERRUPTIBLE);
}

const count = (sem: number) => Atomics.load(i32(), sem + RWSEM.count);
const granted = (t: number) => Atomics.load(i32(), t + TASK.w_task) === 0;
const running = (t: number) => Atomics.load(i32(), t + TASK.__state) === TASK_RUNNING;
const usage = (t: number) => Atomics.load(i32(), t + TASK.usage);

function killCurrent(): void {
  Atomics.store(i32(), cpuCtx.current + TASK.pending_sigkill, 1);
}

afterEach(() => {
  cpuCtx.runner = new BootRunner();
});

describe('rwsem_mark_wake', () => {
  it('grants up to 256 queued readers at once, skipping writers, and keeps the rest queued in order', () => {
    boot('v6.6');
    const sem = rwsemOnLiveObject();
    const holder = spawnTask('holder');
    cpuCtx.current = holder;
    down_write(sem);
    const readers: number[] = [];
    const writers: number[] = [];
    for (let i = 0; i < 300; i++) {
      if (i === 10 || i === 200) {
        const w = spawnTask(`w${i}`);
        writers.push(w);
        enqueue(sem, w, RWSEM_WAITING_FOR_WRITE);
      }
      const r = spawnTask(`r${i}`);
      readers.push(r);
      enqueue(sem, r, RWSEM_WAITING_FOR_READ);
    }
    up_write(sem);
    const woken = readers.slice(0, MAX_READERS_WAKEUP);
    expect(woken.every(granted)).toBe(true);
    expect(woken.every(running)).toBe(true);
    expect(woken.every((t) => usage(t) === 2)).toBe(true); // wake_q's reference was dropped
    expect(readers.slice(MAX_READERS_WAKEUP).some(granted)).toBe(false);
    expect(count(sem)).toBe(MAX_READERS_WAKEUP * RWSEM_READER_BIAS + RWSEM_FLAG_WAITERS);
    const left = rwsem_waiters(sem);
    expect(left.map((w) => w.task)).toEqual([...writers, ...readers.slice(MAX_READERS_WAKEUP)]);
    expect(writers.some(running)).toBe(false); // writers are only woken when at the head
  });

  it('a writer at the head is woken, not granted: it must still win the lock itself', () => {
    boot('v6.6');
    const sem = rwsemOnLiveObject();
    cpuCtx.current = spawnTask('reader');
    down_read(sem);
    const w = spawnTask('writer');
    enqueue(sem, w, RWSEM_WAITING_FOR_WRITE);
    up_read(sem);
    expect(running(w)).toBe(true);
    expect(granted(w)).toBe(false);
    expect(count(sem)).toBe(RWSEM_FLAG_WAITERS); // no writer bit: nothing was granted
  });

  it('downgrade_write grants the queued readers', () => {
    boot('v6.6');
    const sem = rwsemOnLiveObject();
    cpuCtx.current = spawnTask('writer');
    down_write(sem);
    const rs = [spawnTask('r0'), spawnTask('r1'), spawnTask('r2')];
    for (const r of rs) enqueue(sem, r, RWSEM_WAITING_FOR_READ);
    downgrade_write(sem);
    expect(rs.every(granted)).toBe(true);
    expect(rs.every(running)).toBe(true);
    expect(count(sem)).toBe(4 * RWSEM_READER_BIAS); // list emptied: WAITERS cleared
  });
});

describe('readers against queued waiters', () => {
  it('a queued writer blocks new readers (WAITERS): fast path and trylock fail, the reader queues', () => {
    boot('v6.6');
    const sem = rwsemOnLiveObject();
    cpuCtx.current = spawnTask('r0');
    down_read(sem);
    down_read(sem); // two readers own it: a reader group
    const w = spawnTask('writer');
    enqueue(sem, w, RWSEM_WAITING_FOR_WRITE);
    cpuCtx.current = spawnTask('late reader');
    expect(down_read_trylock(sem)).toBe(false);
    killCurrent(); // it would sleep; a fatal signal makes the killable variant give up
    expect(down_read_killable(sem)).toBe(-EINTR);
    expect(count(sem)).toBe(2 * RWSEM_READER_BIAS + RWSEM_FLAG_WAITERS);
    expect(rwsem_waiters(sem).map((x) => x.task)).toEqual([w]);
  });

  it('a reader steals a free lock past a queued writer, and brings a reader at the head with it', () => {
    boot('v6.6');
    const sem = rwsemOnLiveObject();
    const w = spawnTask('writer');
    const r = spawnTask('queued reader');
    // The window between a writer's release and its rwsem_wake(): a reader still at the head.
    enqueue(sem, r, RWSEM_WAITING_FOR_READ);
    enqueue(sem, w, RWSEM_WAITING_FOR_WRITE);
    cpuCtx.current = spawnTask('stealer');
    down_read(sem); // returns at once: no writer holds it and no handoff is pending
    expect(granted(r)).toBe(true); // rcnt == 1 with WAITERS: rwsem_mark_wake(READ_OWNED)
    expect(count(sem)).toBe(2 * RWSEM_READER_BIAS + RWSEM_FLAG_WAITERS);
    expect(rwsem_waiters(sem).map((x) => x.task)).toEqual([w]);
  });

  it('a writer at the head keeps queued readers queued when a reader steals', () => {
    boot('v6.6');
    const sem = rwsemOnLiveObject();
    const w = spawnTask('writer');
    const r = spawnTask('queued reader');
    enqueue(sem, w, RWSEM_WAITING_FOR_WRITE);
    enqueue(sem, r, RWSEM_WAITING_FOR_READ);
    cpuCtx.current = spawnTask('stealer');
    down_read(sem);
    expect(granted(r)).toBe(false); // RWSEM_WAKE_READ_OWNED never grants past a writer at the head
    expect(count(sem)).toBe(RWSEM_READER_BIAS + RWSEM_FLAG_WAITERS);
  });

  it('no stealing while a handoff is pending', () => {
    boot('v6.6');
    const sem = rwsemOnLiveObject();
    const w = spawnTask('writer');
    enqueue(sem, w, RWSEM_WAITING_FOR_WRITE);
    i32()[w + TASK.w_handoff_set] = 1;
    Atomics.or(i32(), sem + RWSEM.count, RWSEM_FLAG_HANDOFF);
    cpuCtx.current = spawnTask('reader');
    killCurrent();
    expect(down_read_killable(sem)).toBe(-EINTR); // it queued instead of stealing
    expect(count(sem)).toBe(RWSEM_FLAG_WAITERS + RWSEM_FLAG_HANDOFF);
  });
});

/** A runner whose sleeps are scripted: each wait() advances the clock and runs the next step. */
class ScriptedRunner extends BootRunner implements Runner {
  clockMs = 0;
  waits = 0;
  constructor(private readonly steps: (() => void)[]) {
    super();
  }
  override wait(_addr: number, _expected: number, _timeoutMs: number): WaitResult {
    this.waits++;
    this.clockMs += 10;
    const step = this.steps.shift();
    if (!step) throw new Error('the writer slept more often than scripted');
    step();
    return 'ok';
  }
  override now(): number {
    return this.clockMs;
  }
}

describe('handoff', () => {
  it('a writer that waited past RWSEM_WAIT_TIMEOUT sets HANDOFF, new readers are refused, and it gets the lock', () => {
    boot('v6.6');
    const sem = rwsemOnLiveObject();
    const reader = spawnTask('reader');
    const writer = spawnTask('writer');
    const late = spawnTask('late reader');
    const seen: number[] = [];
    const as = (t: number, f: () => void) => {
      const me = cpuCtx.current;
      cpuCtx.current = t;
      f();
      cpuCtx.current = me;
    };
    const runner = new ScriptedRunner([
      // 1st sleep: 10 ms pass (> 4 jiffies). A spurious wakeup lets the writer retry.
      () => {
        Atomics.store(i32(), writer + TASK.__state, TASK_RUNNING);
      },
      // 2nd sleep: HANDOFF is set now; a new reader must fail, then the reader stream ends.
      () => {
        seen.push(count(sem));
        as(late, () => seen.push(down_read_trylock(sem) ? 1 : 0));
        as(reader, () => up_read(sem));
      },
    ]);
    cpuCtx.runner = runner;
    as(reader, () => down_read(sem));
    cpuCtx.current = writer;
    expect(down_write_killable(sem)).toBe(0);
    expect(count(sem)).toBe(RWSEM_WRITER_LOCKED); // HANDOFF and WAITERS cleared by the acquisition
    expect(seen[0]! & RWSEM_FLAG_HANDOFF).toBe(RWSEM_FLAG_HANDOFF);
    expect(seen[1]).toBe(0);
    expect(runner.waits).toBe(2);
    up_write(sem);
    expect(count(sem)).toBe(0);
  });
});
