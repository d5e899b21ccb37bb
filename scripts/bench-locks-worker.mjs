// One emulated CPU for `npm run bench -- locks` (driver: scripts/bench-locks.mjs). It attaches to
// the machine's arena like a campaign CPU does (src/cpu/cpu_loop.ts: Arena.attach, FreeRunner with
// no jitter windows, `current` = its own task) and runs mmrace's real lock functions in tight loops.
// Flavours: 'free' (timed) and 'count' (never timed: wraps Atomics to list the calls one op makes,
// then is thrown away). Beside each lock case runs its "JS floor": a loop making exactly the
// Atomics calls of the kernel's algorithm on the same words, and nothing else (the driver checks,
// from the counted calls, that the floor and mmrace make the same calls on the lock's words).
import { parentPort, workerData } from 'node:worker_threads';
import { C, ctl } from '../dist/src/cpu/control.js';
import { BootRunner, FreeRunner } from '../dist/src/cpu/free.js';
import { NO_JITTER } from '../dist/src/cpu/jitter.js';
import {
  applyEra,
  cpuCtx,
  down_read,
  down_write,
  eraByName,
  mem,
  spin_lock,
  spin_unlock,
  up_read,
  up_write,
} from '../dist/src/index.js';
import { Arena, useArena } from '../dist/src/shm/arena.js';
import { refreshThreadConfig } from '../dist/src/shm/thread_config.js';

const { sab, regions, cpu, task, flavour, addr, barrier, era } = workerData;

/** The free runner, counting its futex-like sleeps and wakes (off the lock fast paths). */
class CountingFreeRunner extends FreeRunner {
  waits = 0;
  wakes = 0;
  wait(a, expected, timeoutMs) {
    this.waits++;
    return super.wait(a, expected, timeoutMs);
  }
  wake(a, count) {
    this.wakes++;
    super.wake(a, count);
  }
}

useArena(Arena.attach(sab, regions));
applyEra(eraByName(era)); // the rwsem algorithm is per thread, as on campaign CPUs
const runner = flavour === 'boot' ? new BootRunner() : new CountingFreeRunner(NO_JITTER, cpu);
// This CPU's preempt count word (preempt_disable() in spin_lock is part of the kernel's algorithm).
const PREEMPT = addr.preempt0 + cpu + 1;
cpuCtx.cpu = cpu;
cpuCtx.runner = runner;
cpuCtx.current = task;
cpuCtx.preemptCount = 0;

// include/linux/seqlock.h read side: src/kernel/locking/seqlock.ts when it is there, else the
// simple protocol inline (begin: load, wait while odd; retry: load !== start).
let seqImpl = 'src/kernel/locking/seqlock.ts';
let read_seqcount_begin;
let read_seqcount_retry;
try {
  const m = await import('../dist/src/kernel/locking/seqlock.js');
  if (typeof m.read_seqcount_begin !== 'function' || typeof m.read_seqcount_retry !== 'function')
    throw new Error('incomplete');
  ({ read_seqcount_begin, read_seqcount_retry } = m);
} catch {
  seqImpl = 'inline simple protocol (seqlock.ts absent or unfinished)';
  read_seqcount_begin = (s) => {
    let seq = Atomics.load(mem.i32, s);
    while (seq & 1) seq = Atomics.load(mem.i32, s);
    return seq;
  };
  read_seqcount_retry = (s, start) => Atomics.load(mem.i32, s) !== start;
}

const SEM = addr.sem;
const LOCK = addr.lock;
const SEQ = addr.seq;
const D0 = addr.d0;
const D1 = addr.d1;
const CSEM = addr.csem;
const COUNTER = addr.counter;
const SCRATCH = addr.scratch;

// --- the four uncontended cases: one function each, so every call site stays monomorphic ---

function loopRead(n) {
  for (let i = 0; i < n; i++) {
    down_read(SEM);
    up_read(SEM);
  }
  return 0;
}

function loopWrite(n) {
  for (let i = 0; i < n; i++) {
    down_write(SEM);
    up_write(SEM);
  }
  return 0;
}

function loopSpin(n) {
  for (let i = 0; i < n; i++) {
    spin_lock(LOCK);
    spin_unlock(LOCK);
  }
  return 0;
}

function loopSeq(n) {
  const i32 = mem.i32;
  let acc = 0;
  for (let i = 0; i < n; i++) {
    let start;
    let a;
    let b;
    do {
      start = read_seqcount_begin(SEQ);
      a = Atomics.load(i32, D0);
      b = Atomics.load(i32, D1);
    } while (read_seqcount_retry(SEQ, start));
    acc = (acc + a + b) | 0;
  }
  return acc;
}

// --- the JS floors: the algorithm's Atomics calls on the same words, inline, nothing else ---
// The era is v6.6 (the driver applies it on every thread): kernel/locking/rwsem.c's fast paths
// (rwsem_read_trylock, rwsem_write_trylock, __up_read, __up_write), and the ticket spinlock under
// preempt_disable().

const SEM_COUNT = SEM + addr.rwsemCount;
const SEM_OWNER = SEM + addr.rwsemOwner;
const READER_BIAS = 256; // RWSEM_READER_BIAS
const READ_FAILED_MASK = 0x80000007 | 0; // RWSEM_READ_FAILED_MASK
const WAKE_MASK = 0xffffff03 | 0; // RWSEM_LOCK_MASK | RWSEM_FLAG_WAITERS
const NONSPINNABLE = 2;
const READER_OWNED = 1;
const WRITER_LOCKED = 1;
const FLAG_WAITERS = 2;
const HEAD = LOCK * 2;

function floorRead(n) {
  const i32 = mem.i32;
  for (let i = 0; i < n; i++) {
    // down_read: rwsem_read_trylock(), then rwsem_set_reader_owned() (owner load and store)
    const c = (Atomics.add(i32, SEM_COUNT, READER_BIAS) + READER_BIAS) | 0;
    if (c & READ_FAILED_MASK) throw new Error('contended');
    const keep = Atomics.load(i32, SEM_OWNER) & NONSPINNABLE;
    Atomics.store(i32, SEM_OWNER, task | keep | READER_OWNED);
    // up_read: a wake-up only when the last locker left with waiters queued
    const tmp = (Atomics.sub(i32, SEM_COUNT, READER_BIAS) - READER_BIAS) | 0;
    if ((tmp & WAKE_MASK) === FLAG_WAITERS) throw new Error('waiters');
  }
  return 0;
}

function floorWrite(n) {
  const i32 = mem.i32;
  for (let i = 0; i < n; i++) {
    // down_write: rwsem_write_trylock()'s cmpxchg from 0, then rwsem_set_owner()
    if (Atomics.compareExchange(i32, SEM_COUNT, 0, WRITER_LOCKED) !== 0) throw new Error('contended');
    Atomics.store(i32, SEM_OWNER, task);
    // up_write: rwsem_clear_owner(), then the release
    Atomics.store(i32, SEM_OWNER, 0);
    if (Atomics.sub(i32, SEM_COUNT, WRITER_LOCKED) & FLAG_WAITERS) throw new Error('waiters');
  }
  return 0;
}

function floorSpin(n) {
  const i32 = mem.i32;
  const u16 = mem.u16;
  for (let i = 0; i < n; i++) {
    // spin_lock: preempt_disable(), then take a ticket
    Atomics.add(i32, PREEMPT, 1);
    const old = Atomics.add(i32, LOCK, 1 << 16);
    if ((old & 0xffff) !== old >>> 16) throw new Error('contended');
    // spin_unlock: the holder's head store (its read of head is plain: only the holder writes
    // it, as do_raw_spin_unlock() reads it), then preempt_enable()
    const h = u16[HEAD];
    Atomics.store(u16, HEAD, (h + 1) & 0xffff);
    if (Atomics.sub(i32, PREEMPT, 1) !== 1) throw new Error('resched pending');
  }
  return 0;
}

function floorSeq(n) {
  const i32 = mem.i32;
  let acc = 0;
  for (let i = 0; i < n; i++) {
    let start;
    let a;
    let b;
    do {
      start = Atomics.load(i32, SEQ);
      if (start & 1) continue;
      a = Atomics.load(i32, D0);
      b = Atomics.load(i32, D1);
    } while (Atomics.load(i32, SEQ) !== start);
    acc = (acc + a + b) | 0;
  }
  return acc;
}

// --- single Atomics calls, for the per-call cost model ---

function loopLoad(n) {
  const i32 = mem.i32;
  let acc = 0;
  for (let i = 0; i < n; i++) acc = (acc + Atomics.load(i32, SCRATCH)) | 0;
  return acc;
}

function loopStore(n) {
  const i32 = mem.i32;
  for (let i = 0; i < n; i++) Atomics.store(i32, SCRATCH, i);
  return 0;
}

function loopAdd(n) {
  const i32 = mem.i32;
  let acc = 0;
  for (let i = 0; i < n; i++) acc = (acc + Atomics.add(i32, SCRATCH, 1)) | 0;
  return acc;
}

function loopCas(n) {
  const i32 = mem.i32;
  let acc = 0;
  for (let i = 0; i < n; i++) acc = (acc + Atomics.compareExchange(i32, SCRATCH, 0, 0)) | 0;
  return acc;
}

const SINGLE = {
  rwsem_read: loopRead,
  rwsem_write: loopWrite,
  spin: loopSpin,
  seq_read: loopSeq,
  floor_rwsem_read: floorRead,
  floor_rwsem_write: floorWrite,
  floor_spin: floorSpin,
  floor_seq_read: floorSeq,
  atomic_load: loopLoad,
  atomic_store: loopStore,
  atomic_add: loopAdd,
  atomic_cas: loopCas,
};

let sink = 0;
/**
 * ns per op: wall time, and the process's CPU time, which is this thread's while it alone runs (the
 * driver and the other CPU wait for messages): other processes taking the core do not count in it.
 */
function timeIt(fn, n) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  sink ^= fn(n);
  const wall = ((performance.now() - t0) * 1e6) / n;
  const c = process.cpuUsage(c0);
  return { wall, cpu: ((c.user + c.system) * 1e3) / n };
}

const warmed = new Set();
function single(iters, cases, refresh) {
  // The driver flipped a machine-wide switch (KASAN on lock words): take it up, as a CPU does at
  // the start of a run.
  if (refresh) refreshThreadConfig();
  const cold = cases.filter((c) => !warmed.has(c));
  // Warm-up: enough calls for TurboFan to optimize every loop and the lock functions.
  for (let k = 0; k < 3; k++) for (const c of cold) SINGLE[c](Math.max(20_000, iters / 10));
  for (const c of cold) warmed.add(c);
  const out = {};
  const cpu = {};
  for (const c of cases) {
    SINGLE[c](Math.max(2_000, iters / 50)); // re-warm after the other cases
    ({ wall: out[c], cpu: cpu[c] } = timeIt(SINGLE[c], iters));
  }
  out.cpu = cpu;
  const i32 = mem.i32;
  if (Atomics.load(i32, SEM) !== 0 || Atomics.load(i32, LOCK) >>> 16 !== (Atomics.load(i32, LOCK) & 0xffff))
    throw new Error('a lock was left held');
  return out;
}

// --- 2-CPU contended down_write/up_write: the real slow path, sleeping on the task state word ---

function loopContended(n) {
  const i32 = mem.i32;
  for (let i = 0; i < n; i++) {
    down_write(CSEM);
    i32[COUNTER] = (i32[COUNTER] + 1) | 0; // protected by the rwsem: plain access, as in the kernel
    up_write(CSEM);
  }
}

const bar = new Int32Array(barrier);
function contended(n, refresh) {
  if (refresh) refreshThreadConfig();
  loopContended(Math.max(1, Math.floor(n / 10))); // warm-up (JIT of the slow path too)
  const waits0 = runner.waits ?? 0;
  const wakes0 = runner.wakes ?? 0;
  const points0 = runner.points ?? 0;
  // Sleeping barrier between the two CPUs (the first to arrive waits, so its wake-up puts it on
  // the idle core; a spin barrier can leave both time-sliced on one core). The main thread is
  // idle in its event loop meanwhile.
  if (Atomics.add(bar, 0, 1) === 0) while (Atomics.load(bar, 0) < 2) Atomics.wait(bar, 0, 1, 100);
  else Atomics.notify(bar, 0);
  const start = performance.timeOrigin + performance.now();
  loopContended(n);
  const end = performance.timeOrigin + performance.now();
  return {
    start,
    end,
    waits: (runner.waits ?? 0) - waits0,
    wakes: (runner.wakes ?? 0) - wakes0,
    points: (runner.points ?? 0) - points0,
  };
}

// --- counting: which Atomics calls one op makes, on which words (never in a timed worker) ---

const RMW = new Set(['add', 'sub', 'and', 'or', 'xor', 'exchange']);
const OPS = [
  'load',
  'store',
  'add',
  'sub',
  'and',
  'or',
  'xor',
  'exchange',
  'compareExchange',
  'wait',
  'notify',
];
const LOCK_WORDS = {
  rwsem_read: [SEM, SEM + 5],
  rwsem_write: [SEM, SEM + 5],
  spin: [LOCK, LOCK + 1],
  seq_read: null, // SEQ, D0, D1
};
for (const k of Object.keys(LOCK_WORDS)) LOCK_WORDS[`floor_${k}`] = LOCK_WORDS[k];
const abortWord = ctl() + C.ABORT;

function label(c, ta, idx) {
  const word = ta.BYTES_PER_ELEMENT === 2 ? idx >> 1 : ta.BYTES_PER_ELEMENT === 1 ? idx >> 2 : idx;
  if (ta.buffer !== mem.arena.sab) return 'elsewhere';
  const lw = LOCK_WORDS[c];
  if (lw ? word >= lw[0] && word < lw[1] : word === SEQ) return 'lock';
  if (!lw && (word === D0 || word === D1)) return 'data';
  if (word === abortWord) return 'point';
  if (word === PREEMPT) return 'preempt_count';
  const r = mem.arena.regionOf(word);
  return r < 0 ? 'unknown' : mem.arena.regions[r].name.replace(/^data:/, '');
}

/** Per op of each case: the Atomics calls in order, as `op(where)`, and their cost classes. */
function countCalls(cases, refresh) {
  if (refresh) refreshThreadConfig();
  const out = {};
  const real = Object.fromEntries(OPS.map((op) => [op, Atomics[op]]));
  for (const c of cases) {
    SINGLE[c](1000); // settle: one-time work (first-touch, lazy init) is not per op
    const seq = [];
    for (const op of OPS) {
      Atomics[op] = (ta, idx, ...rest) => {
        seq.push([op, label(c, ta, idx)]);
        return real[op].call(Atomics, ta, idx, ...rest);
      };
    }
    const points0 = runner.points ?? 0;
    try {
      SINGLE[c](10);
    } finally {
      for (const op of OPS) Atomics[op] = real[op];
    }
    const one = seq.slice(0, seq.length / 10);
    const cls = { load: 0, store: 0, add: 0, cas: 0, other: 0 };
    for (const [op] of one) {
      if (op === 'load' || op === 'store') cls[op]++;
      else if (RMW.has(op)) cls.add++;
      else if (op === 'compareExchange') cls.cas++;
      else cls.other++;
    }
    out[c] = {
      total: one.length,
      calls: one.map(([op, where]) => `${op}(${where})`),
      classes: cls,
      points: ((runner.points ?? 0) - points0) / 10,
      exact: seq.length % 10 === 0,
    };
  }
  return out;
}

parentPort.on('message', (msg) => {
  try {
    if (msg.cmd === 'single')
      parentPort.postMessage({ ok: single(msg.iters, msg.cases, msg.refresh), seqImpl, sink });
    else if (msg.cmd === 'contended') parentPort.postMessage({ ok: contended(msg.n, msg.refresh) });
    else if (msg.cmd === 'count') parentPort.postMessage({ ok: countCalls(msg.cases, msg.refresh) });
    else throw new Error(`unknown command ${msg.cmd}`);
  } catch (e) {
    parentPort.postMessage({ error: String(e?.stack ?? e) });
  }
});
parentPort.postMessage({ ready: true, seqImpl });
