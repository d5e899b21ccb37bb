import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { KernelOops } from '../src/cpu/errors.js';
import type { Runner } from '../src/cpu/runner.js';
import {
  done_seqretry,
  need_seqretry,
  raw_read_seqcount,
  raw_read_seqcount_latch,
  raw_seqcount_try_begin,
  raw_write_seqcount_barrier,
  raw_write_seqcount_begin,
  raw_write_seqcount_end,
  raw_write_seqcount_latch,
  read_seqbegin,
  read_seqbegin_or_lock,
  read_seqcount_begin,
  read_seqcount_latch_retry,
  read_seqcount_retry,
  read_seqlock_excl,
  read_seqretry,
  read_sequnlock_excl,
  SEQLOCK,
  type SeqRef,
  seqcount_init,
  seqcount_latch_init,
  seqlock_init,
  write_seqcount_begin,
  write_seqcount_end,
  write_seqcount_invalidate,
  write_seqlock,
  write_sequnlock,
} from '../src/kernel/locking/seqlock.js';
import { spin_is_locked, spin_lock, spin_lock_init, spin_unlock } from '../src/kernel/locking/spinlock.js';
import { __GFP_ZERO, alloc_page, GFP_KERNEL, page_address } from '../src/mm/page_alloc.js';
import { mem } from '../src/shm/arena.js';
import { boot, reports, spinGuard } from './helpers/boot.js';

/** A fresh kernel and one zeroed page of words to put seqcounts, locks and data in. */
function setup(): { dmesg: () => string[]; base: number } {
  const { dmesg } = boot();
  cpuCtx.runner = spinGuard(cpuCtx.runner); // boot() installed a fresh boot runner
  const page = alloc_page(GFP_KERNEL | __GFP_ZERO, 'seqlock.test');
  expect(page).not.toBe(0);
  return { dmesg, base: page_address(page) };
}

const load = (addr: number): number => Atomics.load(mem.i32, addr);
const store = (addr: number, v: number): void => {
  Atomics.store(mem.i32, addr, v);
};

/** The values stored to `addr` through Atomics.store while `fn` runs. */
function storesTo(addr: number, fn: () => void): number[] {
  const spy = vi.spyOn(Atomics, 'store');
  try {
    fn();
    const calls = spy.mock.calls as unknown as [ArrayLike<number>, number, number][];
    return calls.filter((c) => c[0] === mem.i32 && c[1] === addr).map((c) => c[2]);
  } finally {
    spy.mockRestore();
  }
}

/** Runs `fn` with a runner whose relax() calls `onRelax(spins)`; returns the spins it saw. */
function withRelax<T>(onRelax: (spins: number) => void, fn: () => T): { result: T; relaxed: number[] } {
  const saved = cpuCtx.runner;
  const relaxed: number[] = [];
  const runner: Runner = {
    mode: 'boot',
    point: () => {},
    wait: () => 'timed-out',
    wake: () => {},
    relax: (spins) => {
      relaxed.push(spins);
      if (relaxed.length > 1000) throw new Error('spinning forever');
      onRelax(spins);
    },
    now: () => 0,
  };
  cpuCtx.runner = runner;
  try {
    return { result: fn(), relaxed };
  } finally {
    cpuCtx.runner = saved;
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('seqcount_t', () => {
  it('a reader retries across a write and not without one', () => {
    const { dmesg, base } = setup();
    const s = base;
    const lock = base + 1;
    seqcount_init(s);
    spin_lock_init(lock);

    const start = read_seqcount_begin(s);
    expect(start & 1).toBe(0);
    expect(read_seqcount_retry(s, start)).toBe(false);

    const again = read_seqcount_begin(s);
    spin_lock(lock);
    write_seqcount_begin(s, lock);
    expect(raw_read_seqcount(s) & 1).toBe(1);
    expect(read_seqcount_retry(s, again)).toBe(true); // a write in progress
    write_seqcount_end(s, lock);
    spin_unlock(lock);
    expect(read_seqcount_retry(s, again)).toBe(true); // a completed write
    expect(read_seqcount_begin(s)).toBe((again + 2) | 0);
    expect(reports(dmesg())).toEqual([]);
  });

  it('read_seqcount_begin spins with relax while the count is odd and returns the even value', () => {
    const { base } = setup();
    const s = base;
    seqcount_init(s);
    raw_write_seqcount_begin(s);
    const { result, relaxed } = withRelax(
      (spins) => {
        if (spins === 2) raw_write_seqcount_end(s); // the writer finishes while we spin
      },
      () => read_seqcount_begin(s),
    );
    expect(relaxed).toEqual([0, 1, 2]);
    expect(result).toBe(2);
  });

  it('raw_seqcount_try_begin fails while a write is in progress', () => {
    const { base } = setup();
    const s = base;
    seqcount_init(s);
    const start: SeqRef = { seq: -1 };
    expect(raw_seqcount_try_begin(s, start)).toBe(true);
    expect(start.seq).toBe(0);
    raw_write_seqcount_begin(s);
    expect(raw_seqcount_try_begin(s, start)).toBe(false);
    expect(start.seq).toBe(1);
    raw_write_seqcount_end(s);
    expect(raw_seqcount_try_begin(s, start)).toBe(true);
    expect(start.seq).toBe(2);
  });

  it('write_seqcount_invalidate adds 2 in one store, never exposing an odd count', () => {
    const { base } = setup();
    const s = base;
    seqcount_init(s);
    const start = read_seqcount_begin(s);
    const seen = storesTo(s, () => write_seqcount_invalidate(s));
    expect(seen).toEqual([2]);
    expect(read_seqcount_retry(s, start)).toBe(true);
  });

  it('raw_write_seqcount_barrier adds 1 then 1, so a spanning reader retries', () => {
    const { base } = setup();
    const s = base;
    seqcount_init(s);
    const start = read_seqcount_begin(s);
    const seen = storesTo(s, () => raw_write_seqcount_barrier(s));
    expect(seen).toEqual([1, 2]);
    expect(read_seqcount_retry(s, start)).toBe(true);
  });

  it('write_seqcount_begin warns once when the associated lock is not held', () => {
    const { dmesg, base } = setup();
    const s = base;
    const lock = base + 1;
    seqcount_init(s);
    spin_lock_init(lock);
    write_seqcount_begin(s, lock);
    write_seqcount_end(s, lock);
    write_seqcount_begin(s, lock);
    write_seqcount_end(s, lock);
    const r = reports(dmesg());
    expect(r).toHaveLength(1);
    expect(r[0]).toMatch(
      /^WARNING: CPU: -?\d+ PID: \d+ at include\/linux\/seqlock\.h:__seqprop_spinlock_assert$/,
    );
    expect(dmesg().join('\n')).toContain('write_seqcount_begin (kernel/locking/seqlock.ts:');
  });

  it('write_seqcount_begin is silent with the lock held', () => {
    const { dmesg, base } = setup();
    const s = base;
    const lock = base + 1;
    seqcount_init(s);
    spin_lock_init(lock);
    spin_lock(lock);
    write_seqcount_begin(s, lock);
    write_seqcount_end(s, lock);
    spin_unlock(lock);
    expect(load(s)).toBe(2);
    expect(dmesg()).toEqual([]);
  });
});

describe('wild pointers', () => {
  it('a seqcount or seqlock on a NULL or wild pointer oopses like the hardware would', () => {
    const { dmesg } = setup();
    expect(() => read_seqcount_begin(0)).toThrow(KernelOops);
    const wild = mem.i32.length + 0x100;
    expect(() => write_seqlock(wild)).toThrow(KernelOops);
    expect(reports(dmesg()).filter((l) => l.startsWith('BUG:'))).toEqual([
      'BUG: kernel NULL pointer dereference, address: 00000000',
      `BUG: unable to handle page fault for address: ${wild.toString(16).padStart(8, '0')}`,
    ]);
  });
});

describe('seqcount_latch_t', () => {
  /** The latch reader of the kernel-doc: pick the copy by seq & 1, retry if the latch moved. */
  function latchQuery(s: number, data: number): number {
    let seq: number;
    let v: number;
    do {
      seq = raw_read_seqcount_latch(s);
      v = load(data + (seq & 1));
    } while (read_seqcount_latch_retry(s, seq));
    return v;
  }

  it('readers use data[seq & 1], so they never see the copy being modified', () => {
    const { base } = setup();
    const s = base;
    const data = base + 2;
    seqcount_latch_init(s);
    store(data, 10);
    store(data + 1, 10);
    expect(latchQuery(s, data)).toBe(10);

    raw_write_seqcount_latch(s); // odd: readers go to data[1]
    store(data, 999); // data[0] half-updated
    expect(latchQuery(s, data)).toBe(10);
    store(data, 20);
    raw_write_seqcount_latch(s); // even: readers go to data[0]
    store(data + 1, 999); // data[1] half-updated
    expect(latchQuery(s, data)).toBe(20);
    store(data + 1, 20);
    expect(latchQuery(s, data)).toBe(20);
  });

  it('latch readers never wait on an odd count, and retry if the latch moved', () => {
    const { base } = setup();
    const s = base;
    seqcount_latch_init(s);
    raw_write_seqcount_latch(s);
    const { result, relaxed } = withRelax(
      () => {
        throw new Error('latch reader spun');
      },
      () => raw_read_seqcount_latch(s),
    );
    expect(result).toBe(1);
    expect(relaxed).toEqual([]);
    expect(read_seqcount_latch_retry(s, result)).toBe(false);
    raw_write_seqcount_latch(s);
    expect(read_seqcount_latch_retry(s, result)).toBe(true);
  });
});

describe('seqlock_t', () => {
  it('write_seqlock takes the lock and makes the count odd; readers retry across it', () => {
    const { dmesg, base } = setup();
    const sl = base;
    seqlock_init(sl);
    const start = read_seqbegin(sl);
    expect(read_seqretry(sl, start)).toBe(false);
    write_seqlock(sl);
    expect(spin_is_locked(sl + SEQLOCK.lock)).toBe(true);
    expect(load(sl + SEQLOCK.seqcount)).toBe(1);
    write_sequnlock(sl);
    expect(spin_is_locked(sl + SEQLOCK.lock)).toBe(false);
    expect(load(sl + SEQLOCK.seqcount)).toBe(2);
    expect(read_seqretry(sl, start)).toBe(true);
    expect(reports(dmesg())).toEqual([]);
  });

  it('read_seqlock_excl excludes writers without touching the sequence', () => {
    const { base } = setup();
    const sl = base;
    seqlock_init(sl);
    const start = read_seqbegin(sl);
    read_seqlock_excl(sl);
    expect(spin_is_locked(sl + SEQLOCK.lock)).toBe(true);
    expect(load(sl + SEQLOCK.seqcount)).toBe(0);
    expect(read_seqretry(sl, start)).toBe(false);
    read_sequnlock_excl(sl);
    expect(spin_is_locked(sl + SEQLOCK.lock)).toBe(false);
  });

  it('read_seqbegin_or_lock: even seq is a lockless pass, odd seq takes the lock', () => {
    const { base } = setup();
    const sl = base;
    seqlock_init(sl);
    const seq: SeqRef = { seq: 0 };
    let passes = 0;
    for (;;) {
      if (++passes > 2) throw new Error('the locking pass did not end the retries');
      read_seqbegin_or_lock(sl, seq);
      if (passes === 1) {
        expect(seq.seq).toBe(0);
        expect(spin_is_locked(sl + SEQLOCK.lock)).toBe(false);
        write_seqlock(sl); // a writer overlaps the lockless pass
        write_sequnlock(sl);
      } else {
        expect(spin_is_locked(sl + SEQLOCK.lock)).toBe(true);
        expect(load(sl + SEQLOCK.seqcount)).toBe(2); // locking readers leave the count alone
      }
      if (!need_seqretry(sl, seq.seq)) break;
      seq.seq = 1;
    }
    expect(passes).toBe(2);
    expect(seq.seq).toBe(1);
    done_seqretry(sl, seq.seq);
    expect(spin_is_locked(sl + SEQLOCK.lock)).toBe(false);

    // An undisturbed lockless pass needs no retry, and done_seqretry leaves the lock alone.
    seq.seq = 0;
    read_seqbegin_or_lock(sl, seq);
    expect(seq.seq).toBe(2);
    expect(need_seqretry(sl, seq.seq)).toBe(false);
    done_seqretry(sl, seq.seq);
    expect(spin_is_locked(sl + SEQLOCK.lock)).toBe(false);
  });
});

// This test exercises the seqcount PROTOCOL on real threads: two plain-JS workers (not the
// project's CPU pool) run the same even/odd begin/retry algorithm with Atomics on one
// SharedArrayBuffer. The TypeScript module itself is tested single-threaded above.
describe('seqcount protocol on real threads', () => {
  const SEQ = 0;
  const A = 1;
  const B = 2;
  const STOP = 3;
  const WRITES = 4;
  const READS = 5;
  const TORN = 6;
  const RETRIES = 7;

  const writer = `
    const { workerData } = require('node:worker_threads');
    const i32 = new Int32Array(workerData.sab);
    let i = 1;
    while (Atomics.load(i32, ${STOP}) === 0) {
      const s = Atomics.load(i32, ${SEQ});
      Atomics.store(i32, ${SEQ}, (s + 1) | 0);      // write_seqcount_begin: odd
      Atomics.store(i32, ${A}, i);
      Atomics.store(i32, ${B}, -i);
      Atomics.store(i32, ${SEQ}, (s + 2) | 0);      // write_seqcount_end: even
      i++;
      for (let k = 0; k < 32; k++) Atomics.load(i32, ${STOP}); // work outside the section
    }
    Atomics.store(i32, ${WRITES}, i - 1);
  `;

  const reader = `
    const { workerData } = require('node:worker_threads');
    const i32 = new Int32Array(workerData.sab);
    let reads = 0, torn = 0, retries = 0;
    while (Atomics.load(i32, ${STOP}) === 0) {
      let s, a, b;
      for (;;) {
        s = Atomics.load(i32, ${SEQ});                // read_seqcount_begin
        if (s & 1) continue;
        a = Atomics.load(i32, ${A});
        b = Atomics.load(i32, ${B});
        if (Atomics.load(i32, ${SEQ}) === s) break;   // read_seqcount_retry
        retries++;
      }
      if (a !== -b) torn++;
      reads++;
    }
    Atomics.store(i32, ${READS}, reads);
    Atomics.store(i32, ${TORN}, torn);
    Atomics.store(i32, ${RETRIES}, retries);
  `;

  it('readers never see a torn two-word value while a writer updates it', async () => {
    const sab = new SharedArrayBuffer(8 * 4);
    const i32 = new Int32Array(sab);
    const workers = [writer, reader].map((code) => new Worker(code, { eval: true, workerData: { sab } }));
    try {
      const exited = workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.once('error', reject);
            w.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exit ${code}`))));
          }),
      );
      await Promise.all(workers.map((w) => new Promise((resolve) => w.once('online', resolve))));
      await new Promise((resolve) => setTimeout(resolve, 300));
      Atomics.store(i32, STOP, 1);
      await Promise.race([
        Promise.all(exited),
        new Promise((_, reject) => setTimeout(() => reject(new Error('workers did not stop')), 5000)),
      ]);
      expect(Atomics.load(i32, TORN)).toBe(0);
      expect(Atomics.load(i32, WRITES)).toBeGreaterThan(1000);
      expect(Atomics.load(i32, READS)).toBeGreaterThan(1000);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  }, 10_000);
});
