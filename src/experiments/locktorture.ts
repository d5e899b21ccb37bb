// kernel/locking/locktorture.c @00c24c9cfa78: writer and reader threads hammer one global lock of
// the selected type; every write section checks that it is alone (lock_is_write_held) and that no
// reader is inside (lock_is_read_held), every read section that no writer is inside, and the
// statistics report per-thread acquisitions (a fairness indicator) and failures.
//
// Each writer and reader is one emulated CPU (a worker thread) running the kernel's loop until the
// main thread asks the run to stop (C.RUN_STOP, torture_must_stop()). The main thread plays the
// lock_torture_stats kthread: it prints the statistics every stat_interval seconds while the CPUs
// run, and once more at the end, followed by the "End of test" line.
//
// Not modelled: nested_locks, rt_boost, CPU hotplug (onoff_*), shuffling and stutter (each thread
// owns its CPU), acq_writer_lim, shutdown_secs. The parameter line prints the values in effect.

import { cpuCtx, point } from '../cpu/context.js';
import { AbortReason, MAX_CPUS } from '../cpu/control.js';
import type { CpuProgram } from '../cpu/cpu_loop.js';
import { crashLine } from '../cpu/crash.js';
import { NO_JITTER } from '../cpu/jitter.js';
import { logRead } from '../cpu/logring.js';
import type { CampaignHooks, Machine } from '../cpu/machine.js';
import { ownModule } from '../cpu/own_modules.js';
import { applyEra, ERAS, type EraProfile, eraByName } from '../eras/index.js';
import { spawnTask } from '../kernel/fork.js';
import { type LockEvent, lockEventCounts, lockEventsReset } from '../kernel/locking/lock_events.js';
import { rwsem_spin_on_owner_enable } from '../kernel/locking/rwsem_config.js';
import { WARN_ON_ONCE } from '../kernel/panic.js';
import { schedule_timeout_uninterruptible } from '../kernel/sched.js';
import { jiffies } from '../kernel/time.js';
import { kernelReset } from '../scenarios/kernel_image.js';
import { mem } from '../shm/arena.js';
import { defineStatics } from '../shm/statics.js';
import { runAsTask } from './bench_kit/on_cpu.js';
import { lock_busted_ops } from './torture/lock_busted.js';
import {
  cxt,
  DEFINE_TORTURE_RANDOM,
  type LockTortureOps,
  torture_must_stop,
  torture_random,
} from './torture/ops.js';
import { rcu_ops } from './torture/rcu.js';
import { rwsem_lock_ops } from './torture/rwsem_lock.js';
import { rwsem_xadd_busted_ops } from './torture/rwsem_xadd_busted.js';
import { seqcount_ops } from './torture/seqcount.js';
import { spin_lock_ops } from './torture/spin_lock.js';

export type { LockTortureOps } from './torture/ops.js';

/** static struct lock_torture_ops *torture_ops[] of lock_torture_init(). */
export const torture_ops: readonly LockTortureOps[] = [
  lock_busted_ops,
  spin_lock_ops,
  rwsem_lock_ops,
  rwsem_xadd_busted_ops,
  seqcount_ops,
  rcu_ops,
];

/** The kernel the test runs (its rw_semaphore, ...) when no era is given: the newest. */
export const DEFAULT_TORTURE_ERA = 'v6.6';

export const TORTURE_FLAG = '-torture:';

// static bool lock_is_write_held; static atomic_t lock_is_read_held; static unsigned long
// last_lock_release; and the writer/reader tasks. The two flags sit on cache lines of their own.
const LT = defineStatics('locktorture', [
  'lock_is_write_held',
  'pad0[15]',
  'lock_is_read_held',
  'pad1[15]',
  'last_lock_release',
  `tasks[${MAX_CPUS}]`,
]);

// struct lock_stress_stats { long n_lock_fail; long n_lock_acquired; } for every writer (lwsa) and
// reader (lrsa), one 64-byte line each so that counting does not bounce lines between CPUs.
// n_lock_acquired is 64-bit here (lo, hi words; `seq` guards the rare carry into hi) so that long
// runs do not wrap. `retries` counts read sections redone (seqcount).
const STATS_STRIDE = 16;
const S_FAIL = 0;
const S_ACQ_LO = 1;
const S_ACQ_HI = 2;
const S_SEQ = 3;
const S_RETRIES = 4;
const LT_STATS = defineStatics('locktorture_stats', [
  `lwsa[${MAX_CPUS * STATS_STRIDE}]`,
  `lrsa[${MAX_CPUS * STATS_STRIDE}]`,
]);

function statsSlot(write: boolean, tid: number): number {
  return LT_STATS.base() + (write ? LT_STATS.layout.lwsa : LT_STATS.layout.lrsa) + tid * STATS_STRIDE;
}

const at = (f: keyof typeof LT.layout): number => LT.base() + (LT.layout[f] as number);

/** This CPU's torture type (the worker's cxt.cur_ops). */
let cur_ops: LockTortureOps = spin_lock_ops;

export function findTortureOps(name: string): LockTortureOps | undefined {
  return torture_ops.find((o) => o.name === name);
}

/** Counts one thread's acquisitions into its shared lock_stress_stats, 64-bit. */
class AcquiredCounter {
  private lo = 0;
  private hi = 0;
  constructor(
    private readonly i32: Int32Array,
    private readonly slot: number,
  ) {}

  inc(): void {
    const i32 = this.i32;
    if (++this.lo <= 0xffffffff) {
      Atomics.store(i32, this.slot + S_ACQ_LO, this.lo | 0);
      return;
    }
    this.lo = 0;
    this.hi++;
    Atomics.add(i32, this.slot + S_SEQ, 1);
    Atomics.store(i32, this.slot + S_ACQ_HI, this.hi);
    Atomics.store(i32, this.slot + S_ACQ_LO, 0);
    Atomics.add(i32, this.slot + S_SEQ, 1);
  }
}

function readAcquired(i32: Int32Array, slot: number): number {
  for (;;) {
    const s = Atomics.load(i32, slot + S_SEQ);
    const hi = Atomics.load(i32, slot + S_ACQ_HI);
    const lo = Atomics.load(i32, slot + S_ACQ_LO) >>> 0;
    if ((s & 1) === 0 && Atomics.load(i32, slot + S_SEQ) === s) return hi * 0x100000000 + lo;
  }
}

// The WARN_ON_ONCE() sites of the checks: one warning each per run, as in the kernel.
const W_WRITE_HELD = 'kernel/locking/locktorture.c:lock_torture_writer (lock_is_write_held)';
const W_READ_HELD = 'kernel/locking/locktorture.c:lock_torture_writer (lock_is_read_held)';
const R_WRITE_HELD = 'kernel/locking/locktorture.c:lock_torture_reader (lock_is_write_held)';
const R_CHECK = 'kernel/locking/locktorture.c:lock_torture_reader (read_check)';

// kernel/torture.c stutter_wait() with stutter=0: only the cond_resched_tasks_rcu_qs().
function stutter_wait(title: string): void {
  point(title);
}

// kernel/locking/locktorture.c lock_torture_writer()
function lock_torture_writer(tid: number): void {
  const ops = cur_ops;
  const i32 = mem.i32;
  const lock_is_write_held = at('lock_is_write_held');
  const lock_is_read_held = at('lock_is_read_held');
  const last_lock_release = at('last_lock_release');
  const lwsp = statsSlot(true, tid);
  const n_lock_acquired = new AcquiredCounter(i32, lwsp);
  // Readers that do not exclude writers (seqcount, rcu) are inside at any time: check 2 is not theirs.
  const readersExclude = !ops.concurrent_readers;
  const rand = DEFINE_TORTURE_RANDOM();
  do {
    if ((torture_random(rand) & 0xfffff) === 0) schedule_timeout_uninterruptible(1);
    torture_random(rand); // lockset_mask: no nested locks
    ops.writelock(tid);
    if (WARN_ON_ONCE(Atomics.load(i32, lock_is_write_held) !== 0, W_WRITE_HELD))
      Atomics.add(i32, lwsp + S_FAIL, 1);
    Atomics.store(i32, lock_is_write_held, 1);
    if (readersExclude && WARN_ON_ONCE(Atomics.load(i32, lock_is_read_held) !== 0, W_READ_HELD))
      Atomics.add(i32, lwsp + S_FAIL, 1); /* rare, but... */
    n_lock_acquired.inc();
    ops.write_delay(rand);
    Atomics.store(i32, lock_is_write_held, 0);
    Atomics.store(i32, last_lock_release, jiffies());
    ops.writeunlock(tid);
    stutter_wait('lock_torture_writer');
  } while (!torture_must_stop());
}

// kernel/locking/locktorture.c lock_torture_reader()
function lock_torture_reader(tid: number): void {
  const ops = cur_ops;
  const readlock = ops.readlock!;
  const read_delay = ops.read_delay!;
  const readunlock = ops.readunlock!;
  const i32 = mem.i32;
  const lock_is_write_held = at('lock_is_write_held');
  const lock_is_read_held = at('lock_is_read_held');
  const lrsp = statsSlot(false, tid);
  const n_lock_acquired = new AcquiredCounter(i32, lrsp);
  const rand = DEFINE_TORTURE_RANDOM();
  do {
    if ((torture_random(rand) & 0xfffff) === 0) schedule_timeout_uninterruptible(1);
    const cookie = readlock(tid);
    Atomics.add(i32, lock_is_read_held, 1);
    if (WARN_ON_ONCE(Atomics.load(i32, lock_is_write_held) !== 0, R_WRITE_HELD))
      Atomics.add(i32, lrsp + S_FAIL, 1); /* rare, but... */
    n_lock_acquired.inc();
    read_delay(rand);
    Atomics.sub(i32, lock_is_read_held, 1);
    readunlock(tid, cookie);
    stutter_wait('lock_torture_reader');
  } while (!torture_must_stop());
}

// The reader loop for read sides that do not exclude writers (seqcount, rcu). With read_retry
// (seqcount) a writer may come and go during a section, which is then redone, and a section that
// stands must have seen no writer at either end; with or without it, what a standing section read
// must pass read_check (an untorn seqcount pair, an RCU element not freed under the reader).
function lock_torture_concurrent_reader(tid: number): void {
  const ops = cur_ops;
  const readlock = ops.readlock!;
  const read_delay = ops.read_delay!;
  const readunlock = ops.readunlock!;
  const read_retry = ops.read_retry;
  const read_check = ops.read_check ?? (() => true);
  const i32 = mem.i32;
  const lock_is_write_held = at('lock_is_write_held');
  const lrsp = statsSlot(false, tid);
  const n_lock_acquired = new AcquiredCounter(i32, lrsp);
  let retries = 0;
  const rand = DEFINE_TORTURE_RANDOM();
  do {
    if ((torture_random(rand) & 0xfffff) === 0) schedule_timeout_uninterruptible(1);
    const cookie = readlock(tid);
    let sawWriter = Atomics.load(i32, lock_is_write_held) !== 0;
    read_delay(rand);
    sawWriter ||= Atomics.load(i32, lock_is_write_held) !== 0;
    readunlock(tid, cookie);
    if (read_retry?.(tid, cookie)) {
      Atomics.store(i32, lrsp + S_RETRIES, ++retries);
    } else {
      // One failure per bad section, whichever check caught it.
      if ((read_retry && WARN_ON_ONCE(sawWriter, R_WRITE_HELD)) || WARN_ON_ONCE(!read_check(tid), R_CHECK))
        Atomics.add(i32, lrsp + S_FAIL, 1);
      n_lock_acquired.inc();
    }
    stutter_wait('lock_torture_reader');
  } while (!torture_must_stop());
}

/** One thread of the test: a writer or a reader, with its index among its kind. */
export interface TortureThread {
  write: boolean;
  tid: number;
}

/**
 * CPU k runs the k-th thread lock_torture_init() creates: writers and readers interleaved, the
 * writer first ("giving writers a slight advantage").
 */
export function tortureThreads(nwriters: number, nreaders: number): TortureThread[] {
  const out: TortureThread[] = [];
  for (let i = 0, j = 0; i < nwriters || j < nreaders; i++, j++) {
    if (i < nwriters) out.push({ write: true, tid: i });
    if (j < nreaders) out.push({ write: false, tid: j });
  }
  return out;
}

export interface LockTortureEntryArgs {
  torture_type: string;
  era: string;
  nrealwriters_stress: number;
  nrealreaders_stress: number;
  long_hold: number;
}

function tortureEra(name: string): EraProfile {
  const era = eraByName(name);
  if (!era) throw new Error(`lock-torture: unknown era '${name}'`);
  return era;
}

function applyCxt(a: LockTortureEntryArgs): LockTortureOps {
  const ops = findTortureOps(a.torture_type);
  if (!ops) throw new Error(`lock-torture: invalid torture type: "${a.torture_type}"`);
  // The same kernel on every CPU and on the main thread, which sets the lock up.
  applyEra(tortureEra(a.era));
  cxt.nrealwriters_stress = a.nrealwriters_stress;
  cxt.nrealreaders_stress = a.nrealreaders_stress;
  cxt.long_hold = a.long_hold;
  return ops;
}

/** The CPU worker's entry (see cpu_loop.ts): this CPU's writer or reader kthread. */
export function prepareCpu(args: unknown, cpu: number): CpuProgram {
  const a = args as LockTortureEntryArgs;
  cur_ops = applyCxt(a);
  const me = tortureThreads(a.nrealwriters_stress, a.nrealreaders_stress)[cpu];
  if (!me) throw new Error(`locktorture: no thread for CPU${cpu}`);
  return () => {
    runAsTask(Atomics.load(mem.i32, at('tasks') + cpu), cpu, () => {
      if (me.write) lock_torture_writer(me.tid);
      else if (cur_ops.concurrent_readers) lock_torture_concurrent_reader(me.tid);
      else lock_torture_reader(me.tid);
    });
  };
}

// --- the main thread: parameters, statistics, the run --------------------------------------

export class LockTortureInitError extends Error {}

export interface LockTortureParams {
  torture_type: string;
  /** The era profile (src/eras/) whose kernel runs the test; DEFAULT_TORTURE_ERA if absent. */
  era?: string;
  /** -1: the kernel's default (2 × online CPUs for exclusive locks, online CPUs with readers). */
  nwriters_stress: number;
  nreaders_stress: number;
  long_hold: number;
  stat_interval: number;
  /** Seconds the threads run before the main thread stops them. */
  duration: number;
  /** CONFIG_RWSEM_SPIN_ON_OWNER against the era's default (writers spin on the owner, OSQ-queued). */
  spin_on_owner?: boolean;
}

export interface LockTortureConfig extends LockTortureParams {
  era: string;
  nrealwriters_stress: number;
  nrealreaders_stress: number;
}

/**
 * The parameter processing of lock_torture_init(): the torture type, the thread counts. Throws
 * LockTortureInitError where the kernel returns -EINVAL, and when the threads do not fit the
 * machine's CPUs.
 */
export function lock_torture_init(p: LockTortureParams, num_online_cpus: number): LockTortureConfig {
  const ops = findTortureOps(p.torture_type);
  if (!ops) {
    throw new LockTortureInitError(
      `lock-torture: invalid torture type: "${p.torture_type}" (lock-torture types: ${torture_ops.map((o) => o.name).join(' ')})`,
    );
  }
  const era = p.era ?? DEFAULT_TORTURE_ERA;
  if (!eraByName(era))
    throw new LockTortureInitError(
      `lock-torture: unknown era '${era}' (known: ${ERAS.map((e) => e.name).join(', ')})`,
    );
  if (p.nwriters_stress === 0 && (!ops.readlock || p.nreaders_stress === 0))
    throw new LockTortureInitError('lock-torture: must run at least one locking thread');
  if (!ops.readlock && p.nreaders_stress > 0)
    throw new LockTortureInitError(`${ops.name} has no read side: --nreaders must be 0`);
  let nw = p.nwriters_stress >= 0 ? p.nwriters_stress : 2 * num_online_cpus;
  let nr = 0;
  if (ops.readlock) {
    if (p.nreaders_stress >= 0) nr = p.nreaders_stress;
    else {
      // "By default distribute evenly the number of readers and writers."
      if (p.nwriters_stress < 0) nw = num_online_cpus;
      nr = nw;
    }
  }
  if (nw + nr > MAX_CPUS) {
    if (p.nwriters_stress >= 0 || p.nreaders_stress >= 0)
      throw new LockTortureInitError(
        `${nw} writers + ${nr} readers need ${nw + nr} CPUs; the machine has at most ${MAX_CPUS}`,
      );
    // Defaults from a big host: share the machine's CPUs out as the kernel's ratio would.
    if (ops.readlock) {
      nw = Math.ceil(MAX_CPUS / 2);
      nr = MAX_CPUS - nw;
    } else nw = MAX_CPUS;
  }
  return { ...p, era, nrealwriters_stress: nw, nrealreaders_stress: nr };
}

/** The non-zero lock event counts, one line, as `grep . lock_event_counts/*` would list them. */
function lockEventsLine(type: string, counts: Record<LockEvent, number>): string {
  const nonzero = Object.entries(counts).filter(([, n]) => n > 0);
  return `${type}${TORTURE_FLAG} lock_event_counts: ${nonzero.map(([e, n]) => `${e}=${n}`).join(' ')}`;
}

/** "%*pbl": a CPU list such as 0,2-4. */
export function cpulist(cpus: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < cpus.length; ) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    out.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

// kernel/locking/locktorture.c lock_torture_print_module_parms()
export function lock_torture_print_module_parms(c: LockTortureConfig, tag: string): string {
  const threads = tortureThreads(c.nrealwriters_stress, c.nrealreaders_stress);
  const bind = (write: boolean) => cpulist(threads.flatMap((t, cpu) => (t.write === write ? [cpu] : [])));
  return (
    `${c.torture_type}${TORTURE_FLAG}--- ${tag}: acq_writer_lim=0 long_hold=${c.long_hold} nested_locks=0 ` +
    `nreaders_stress=${c.nrealreaders_stress} nwriters_stress=${c.nrealwriters_stress} onoff_holdoff=0 ` +
    `onoff_interval=0 rt_boost=0 rt_boost_factor=50 shuffle_interval=0 shutdown_secs=0 ` +
    `stat_interval=${c.stat_interval} stutter=0 verbose=0 writer_fifo=0 ` +
    `readers_bind=${bind(false)} writers_bind=${bind(true)}`
  );
}

export interface StressStats {
  total: number;
  max: number;
  min: number;
  /** The `???` flag: max / 2 > min. */
  starved: boolean;
  /** The `Fail` flag: some thread counted a failure. */
  fail: boolean;
  threads: { cpu: number; acquired: number; fails: number; retries: number }[];
}

function readStressStats(c: LockTortureConfig, write: boolean): StressStats {
  const i32 = mem.i32;
  const n = write ? c.nrealwriters_stress : c.nrealreaders_stress;
  const cpus = tortureThreads(c.nrealwriters_stress, c.nrealreaders_stress).flatMap((t, cpu) =>
    t.write === write ? [cpu] : [],
  );
  const threads: StressStats['threads'] = [];
  for (let i = 0; i < n; i++) {
    const slot = statsSlot(write, i);
    threads.push({
      cpu: cpus[i]!,
      acquired: readAcquired(i32, slot),
      fails: Atomics.load(i32, slot + S_FAIL),
      retries: Atomics.load(i32, slot + S_RETRIES),
    });
  }
  // kernel/locking/locktorture.c __torture_print_stats()
  let fail = false;
  let max = 0;
  let min = n > 0 ? threads[0]!.acquired : 0;
  let sum = 0;
  for (const t of threads) {
    if (t.fails) fail = true;
    const cur = t.acquired;
    sum += cur;
    if (max < cur) max = cur;
    if (min > cur) min = cur;
  }
  const onoff_interval = 0;
  return { total: sum, max, min, starved: !onoff_interval && Math.trunc(max / 2) > min, fail, threads };
}

// kernel/locking/locktorture.c __torture_print_stats(): the "%s:  Total: %lld  Max/Min: %ld/%ld
// %s  Fail: %d %s" line.
export function torture_stats_line(s: StressStats, write: boolean): string {
  return (
    `${write ? 'Writes' : 'Reads '}:  Total: ${s.total}  Max/Min: ${s.max}/${s.min} ` +
    `${s.starved ? '???' : ''}  Fail: ${s.fail ? 1 : 0} ${s.fail ? '!!!' : ''}`
  );
}

export interface LockTortureSample {
  elapsedMs: number;
  writes: number;
  reads: number | null;
}

export interface LockTortureResult {
  config: LockTortureConfig;
  /** SUCCESS / FAILURE as the End of test line says; ERROR when a CPU crashed or hung. */
  result: 'SUCCESS' | 'FAILURE' | 'ERROR';
  writes: StressStats;
  reads: StressStats | null;
  /** /sys/kernel/debug/lock_event_counts/ at the end (lock_events.ts). */
  lockEvents: Record<LockEvent, number>;
  /** One entry per statistics printout, the last one at the end of the test. */
  samples: LockTortureSample[];
  /** Everything printed, in order: parameter lines, kernel log lines, statistics. */
  lines: string[];
  /** Wall time the threads ran, ms. */
  runMs: number;
  error?: string;
}

/**
 * Runs the test on `machine`: one CPU per thread for `duration` seconds. `emit` gets each output
 * line as it is produced (statistics while the CPUs still run).
 */
export async function lock_torture_run(
  machine: Machine,
  c: LockTortureConfig,
  emit: (line: string) => void = () => {},
): Promise<LockTortureResult> {
  const ops = findTortureOps(c.torture_type);
  if (!ops) throw new LockTortureInitError(`lock-torture: invalid torture type: "${c.torture_type}"`);
  const lines: string[] = [];
  const out = (l: string) => {
    lines.push(l);
    emit(l);
  };
  let n_lock_torture_errors = 0;
  const samples: LockTortureSample[] = [];
  let logShown = 0;
  const drainLog = () => {
    const { records } = logRead();
    for (; logShown < records.length; logShown++) out(records[logShown]!.text);
  };
  // kernel/locking/locktorture.c lock_torture_stats_print()
  const statsPrint = (elapsedMs: number): { w: StressStats; r: StressStats | null } => {
    drainLog();
    const w = readStressStats(c, true);
    out(torture_stats_line(w, true));
    if (w.fail) n_lock_torture_errors++;
    let r: StressStats | null = null;
    if (ops.readlock) {
      r = readStressStats(c, false);
      out(torture_stats_line(r, false));
      if (r.fail) n_lock_torture_errors++;
    }
    samples.push({ elapsedMs: Math.round(elapsedMs), writes: w.total, reads: r ? r.total : null });
    return { w, r };
  };

  const ncpus = c.nrealwriters_stress + c.nrealreaders_stress;
  const threads = tortureThreads(c.nrealwriters_stress, c.nrealreaders_stress);
  const durationMs = c.duration * 1000;
  let nextStat = c.stat_interval > 0 ? c.stat_interval * 1000 : Infinity;
  let runMs = 0;
  let oopsed = false;
  out(lock_torture_print_module_parms(c, 'Start of test'));
  const era = tortureEra(c.era);
  out(
    `${c.torture_type}${TORTURE_FLAG} era ${era.name} (Linux ${era.release}): rw_semaphore ${era.rwsem.name}, ` +
      `CONFIG_RWSEM_SPIN_ON_OWNER=${(c.spin_on_owner ?? era.rwsem.CONFIG_RWSEM_SPIN_ON_OWNER) ? 'y' : 'n'}`,
  );
  const hooks: CampaignHooks = {
    setup() {
      kernelReset();
      applyCxt(c);
      rwsem_spin_on_owner_enable(c.spin_on_owner ?? null); // a shared word: every CPU sees it
      lockEventsReset();
      ops.init();
      const i32 = mem.i32;
      for (const f of ['lock_is_write_held', 'lock_is_read_held', 'last_lock_release'] as const)
        Atomics.store(i32, at(f), 0);
      for (const write of [true, false])
        for (let i = 0; i < MAX_CPUS; i++)
          for (let k = 0; k < STATS_STRIDE; k++) Atomics.store(i32, statsSlot(write, i) + k, 0);
      threads.forEach((t, cpu) => {
        // torture_create_kthread(lock_torture_writer, ...): comm is the function name, 15 chars.
        const task = spawnTask(t.write ? 'lock_torture_wr' : 'lock_torture_re', { kthread: true });
        Atomics.store(i32, at('tasks') + cpu, task);
      });
      cpuCtx.current = 0;
    },
    stopKthreads() {},
    tick(_run, elapsedMs) {
      drainLog();
      if (elapsedMs >= durationMs) return true;
      if (elapsedMs >= nextStat) {
        statsPrint(elapsedMs);
        nextStat += c.stat_interval * 1000;
      }
      return false;
    },
    finish(o) {
      runMs = o.wallMs;
      oopsed = o.abort === AbortReason.Oops;
      return true;
    },
  };
  const r = await machine.campaign(
    {
      entry: ownModule('experiments/locktorture.js'),
      entryArgs: {
        torture_type: c.torture_type,
        era: c.era,
        nrealwriters_stress: c.nrealwriters_stress,
        nrealreaders_stress: c.nrealreaders_stress,
        long_hold: c.long_hold,
      } satisfies LockTortureEntryArgs,
      ncpus,
      runs: 1,
      seed: 1,
      jitter: NO_JITTER,
      timeScale: 1,
      // Threads stop at the end of their current iteration; a long hold lasts at most
      // long_hold × 10 ms (rwsem writers).
      runTimeoutMs: durationMs + 30_000 + c.long_hold * 20,
      kthreadCpus: [],
      tickMs: 20,
    },
    hooks,
  );
  machine.attach();
  let error: string | undefined;
  if (r.crash) error = crashLine(r.crash);
  else if (r.timedOut) {
    runMs = r.timedOut.wallMs;
    error = `the threads did not stop within ${Math.round(r.timedOut.wallMs / 1000)} s of a ${c.duration} s test`;
  }
  // lock_torture_cleanup(): the final statistics, -after- the threads stopped.
  const { w, r: rd } = statsPrint(runMs);
  const lockEvents = lockEventCounts();
  if (Object.values(lockEvents).some((n) => n > 0)) out(lockEventsLine(c.torture_type, lockEvents));
  drainLog();
  if (n_lock_torture_errors || oopsed) out(lock_torture_print_module_parms(c, 'End of test: FAILURE'));
  else out(lock_torture_print_module_parms(c, 'End of test: SUCCESS'));
  // An Oops in the lock code killed a thread: the kernel would not have survived to print SUCCESS.
  let result: LockTortureResult['result'] = n_lock_torture_errors || oopsed ? 'FAILURE' : 'SUCCESS';
  if (error) result = 'ERROR';
  return {
    config: c,
    result,
    writes: w,
    reads: rd,
    lockEvents,
    samples,
    lines,
    runMs,
    ...(error ? { error } : {}),
  };
}
