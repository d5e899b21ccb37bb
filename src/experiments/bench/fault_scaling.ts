// `mmrace bench fault-scaling`: page-fault scaling of one mm on the emulator's fault path, era by
// era: the mmap_lock-only path (v5.17, v6.1) against the per-VMA lock generations (the RFC of Sep
// 2022, v6.4, v6.15), in two shapes (--shapes). perf-anchors.md B4 and kernel-mm.md §7.3 give the
// published figures.
//
// Per sample, on the shared machine, free mode, no jitter:
// - private (will-it-scale tests/page_fault1.c in thread mode): N fault CPUs (--cpus) each loop
//   until the run is stopped: mmap_write_lock + mmap_anon_fixed() of --pages pages at an address of
//   its own (a PMD or more apart from the others), one write fault per page through
//   __do_page_fault() (the era's per-VMA lock first where it has one, the mmap_lock path as
//   fallback), each fault timed into an HdrHistogram, then munmap under mmap_write_lock. Every
//   fault counts, the first of a fresh VMA too (it gives the VMA its anon_vma: rfc-2022-09 to v6.6
//   decline the VMA lock for it, VMA_LOCK_ABORT, and take the mmap_lock path; v6.15 makes it under
//   the VMA lock when mmap_read_trylock() succeeds, else VMA_LOCK_RETRY), as will-it-scale counts
//   them: faults/s = faults over the CPU's whole loop time, mmap and munmap included.
// - shared-vma (mmtests pft-threads' shape, repeated): one private anonymous VMA with a slice for
//   every fault CPU (slices a PMD apart: page tables and page-table locks of their own) is mapped
//   in the sample's setup; each fault CPU loops on a timed write fault to every page of its slice
//   (all CPUs on the same VMA, so its lock is the shared point in the per-VMA eras, mmap_lock's
//   read side in the others) and madvise(MADV_DONTNEED) of the slice (mm/madvise.ts: mmap_lock for
//   reading, a zap), so that the next pass faults again. faults/s includes the madvise time.
// - with --churn on, --writers CPUs each churn an unrelated 16-page VMA of their own, as
//   scripts/bench-fault-churn.mjs's writer does: mprotect() two pages read-only and back (a split,
//   a merge), munmap() two others and mmap() them again: mmap_lock for writing four times a loop.
//   When more than RCU_BACKLOG call_rcu() callbacks are queued (VMAs and maple-tree nodes freed
//   through RCU; the emulated slab caches are small and a writer outruns rcu_sched on a loaded
//   host) it waits in rcu_barrier(), counted.
// - the last CPU is rcu_sched (rcu_gp_kthread), in every era: the per-VMA lock eras free VMAs
//   through call_rcu(), and from v6.1 the maple tree frees its nodes through RCU too. A fault CPU
//   whose mmap found the VMA cache empty waits in rcu_barrier() and tries once more (counted).
// The VMA_LOCK_* counters are the machine's (/proc/vmstat's vma_lock_*), zeroed in each sample's
// setup; only the fault CPUs fault. Beside every rate: the fault CPUs' time on a host core and
// their wait on the host's run queue (/proc/thread-self/schedstat), since on a shared 2-core host
// the figures are mostly about who got a core. The tables, figures and findings are
// bench_fault/report.ts's.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { cpuCtx } from '../../cpu/context.js';
import { MAX_CPUS, runStopRequested } from '../../cpu/control.js';
import type { CpuProgram } from '../../cpu/cpu_loop.js';
import type { Machine } from '../../cpu/machine.js';
import { ownModule } from '../../cpu/own_modules.js';
import { applyEra, type EraProfile } from '../../eras/index.js';
import { mm_alloc, spawnTask } from '../../kernel/fork.js';
import { kthread_stop } from '../../kernel/kthread.js';
import { lockStatClear } from '../../kernel/locking/lock_stat.js';
import { lockStatText } from '../../kernel/locking/lockdep_proc.js';
import { lock_stat_enable } from '../../kernel/locking/lockdep_state.js';
import { rcu_barrier, rcuCallbacksPending } from '../../kernel/rcu/callbacks.js';
import { rcu_gp_kthread } from '../../kernel/rcu/gp_kthread.js';
import { __do_page_fault } from '../../mm/fault.js';
import { do_madvise, MADV_DONTNEED } from '../../mm/madvise.js';
import { FAULT_FLAG_WRITE, get_mm_counter, VM_FAULT_ERROR } from '../../mm/memory.js';
import { MM_ANONPAGES, VM_ACCOUNT, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE } from '../../mm/mm_types.js';
import { do_munmap, mmap_anon_fixed, PROT_READ, PROT_WRITE } from '../../mm/mmap.js';
import { mmap_write_lock, mmap_write_unlock } from '../../mm/mmap_lock.js';
import { mprotect } from '../../mm/mprotect.js';
import { vmstat_vma_lock, vmstatVmaLockReset } from '../../mm/vma_lock.js';
import { kernelReset } from '../../scenarios/kernel_image.js';
import { mem } from '../../shm/arena.js';
import { defineStatics } from '../../shm/statics.js';
import { type Churn, faultReport, type Plan } from '../bench_fault/report.js';
import { groupOf, SHAPES, type Shape } from '../bench_fault/shapes.js';
import { CpuResults, type Histogram, mergedHistogram, newWaitHistogram } from '../bench_kit/cpu_results.js';
import { runAsTask } from '../bench_kit/on_cpu.js';
import { eraNamed, runSample } from '../bench_kit/sample.js';
import { intFlag, parseChoices, parseEraList } from '../bench_kit/stats.js';
import {
  type Experiment,
  type ExperimentContext,
  ExperimentInputError,
  type ExperimentOutput,
  type Sample,
} from '../experiment.js';

const ST = defineStatics('bench_fault_scaling', ['mm', 'rcu', `tasks[${MAX_CPUS}]`]);

const P = 4096;
const RW = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_ACCOUNT;
/** Fault CPU i's region: FAULT_BASE + i * REGION_STRIDE (4 MiB: its own PTE pages). */
const FAULT_BASE = 0x10000000;
const REGION_STRIDE = 0x00400000;
/** Writer j's VMA: CHURN_BASE + j * REGION_STRIDE, far from every fault region. */
const CHURN_BASE = 0x40000000;
const CHURN_PAGES = 16;
/** A writer waits in rcu_barrier() when more than this many call_rcu() callbacks are queued. */
export const RCU_BACKLOG = 32;
/** Pages the fault regions may take at once (the machine has DEFAULT_PAGES = 1024 frames). */
const MAX_REGION_PAGES = 768;

// Per-CPU result fields (CpuResults: 8 floats) and the histogram kind.
const F_OPS = 0; // fault CPU: faults; writer: loops
const F_MS = 1; // the CPU's timed interval
const F_ONCPU_MS = 2; // time on a host core in that interval (schedstat)
const F_RQ_MS = 3; // time runnable on the host's run queue (schedstat)
const F_BAD = 4; // fault CPU: failed faults; writer: failed mmaps
const F_LOOPS = 5; // fault CPU: mmap/touch/munmap loops
const F_RCU_WAITS = 6; // rcu_barrier() waits
const F_CODE = 7; // fault CPU: the failed faults' VM_FAULT_* bits, OR'd
const H_FAULT = 0;

interface EntryArgs {
  shape: Shape;
  era: string;
  faulters: number;
  writers: number;
  pages: number;
  results: SharedArrayBuffer;
}

/**
 * This thread's time on a host core and waiting on the host's run queue so far, ns
 * (/proc/thread-self/schedstat; a synchronous read runs on the calling thread). null where there
 * is no such file (not Linux, or no CONFIG_SCHED_INFO).
 */
function schedstat(): { onCpu: number; wait: number } | null {
  try {
    const f = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    return { onCpu: Number(f[0]), wait: Number(f[1]) };
  } catch {
    return null;
  }
}

/** mmap() of a private anonymous region: mmap_lock for writing, as do_mmap() takes it. */
function mmapRegion(mm: number, addr: number, len: number): number {
  mmap_write_lock(mm);
  const vma = mmap_anon_fixed(mm, addr, len, RW);
  mmap_write_unlock(mm);
  return vma;
}

function munmapRegion(mm: number, addr: number, len: number): void {
  mmap_write_lock(mm);
  do_munmap(mm, addr, len);
  mmap_write_unlock(mm);
}

/** The timed interval's schedstat and wall clock, into the CPU's fields. */
function endInterval(
  res: CpuResults,
  cpu: number,
  t0: number,
  s0: { onCpu: number; wait: number } | null,
): void {
  res.setField(cpu, F_MS, performance.now() - t0);
  const s1 = s0 ? schedstat() : null;
  res.setField(cpu, F_ONCPU_MS, s0 && s1 ? (s1.onCpu - s0.onCpu) / 1e6 : Number.NaN);
  res.setField(cpu, F_RQ_MS, s0 && s1 ? (s1.wait - s0.wait) / 1e6 : Number.NaN);
}

/** A fault CPU's counts over its timed interval. */
interface Tally {
  faults: number;
  bad: number;
  code: number;
  loops: number;
  waits: number;
  h: Histogram;
}

/** One write fault per page of [base, end), each timed into the histogram; failures counted. */
function touchEveryPage(mm: number, base: number, end: number, t: Tally): void {
  for (let addr = base; addr < end; addr += P) {
    const f0 = performance.now();
    const f = __do_page_fault(mm, addr, FAULT_FLAG_WRITE);
    t.h.recordValue(Math.max(1, Math.round((performance.now() - f0) * 1e6)));
    if (f & VM_FAULT_ERROR) {
      t.bad++;
      t.code |= f;
    }
  }
}

/** The fault CPU's timed loop: `pass` until the run is stopped (at least once), then its fields. */
function timedFaultLoop(cpu: number, res: CpuResults, pass: (t: Tally) => boolean): void {
  const t: Tally = { faults: 0, bad: 0, code: 0, loops: 0, waits: 0, h: newWaitHistogram() };
  res.arriveAndWait(runStopRequested);
  const s0 = schedstat();
  const t0 = performance.now();
  // At least one pass, however late the host runs this thread (a stop may come before it starts).
  do {
    if (!pass(t)) break;
    t.loops++;
  } while (!runStopRequested());
  endInterval(res, cpu, t0, s0);
  res.setField(cpu, F_OPS, t.faults);
  res.setField(cpu, F_BAD, t.bad);
  res.setField(cpu, F_CODE, t.code);
  res.setField(cpu, F_LOOPS, t.loops);
  res.setField(cpu, F_RCU_WAITS, t.waits);
  res.putHistogram(cpu, H_FAULT, t.h);
}

/** will-it-scale page_fault1's loop: mmap, write every page (each fault timed), munmap. */
function privateLoop(cpu: number, a: EntryArgs, res: CpuResults): void {
  const mm = Atomics.load(mem.i32, ST.base() + ST.layout.mm);
  const base = FAULT_BASE + cpu * REGION_STRIDE;
  const len = a.pages * P;
  timedFaultLoop(cpu, res, (t) => {
    if (!mmapRegion(mm, base, len)) {
      // The VMA cache is empty of all but objects call_rcu() has not freed yet.
      rcu_barrier();
      t.waits++;
      if (!mmapRegion(mm, base, len)) {
        t.bad++;
        return false;
      }
    }
    touchEveryPage(mm, base, base + len, t);
    t.faults += a.pages;
    munmapRegion(mm, base, len);
    return true;
  });
}

/** pft-threads' shape, repeated: write every page of this CPU's slice of the shared VMA, then
 * madvise(MADV_DONTNEED) the slice (mmap_lock for reading), so that the next pass faults again. */
function sharedVmaLoop(cpu: number, a: EntryArgs, res: CpuResults): void {
  const mm = Atomics.load(mem.i32, ST.base() + ST.layout.mm);
  const base = FAULT_BASE + cpu * REGION_STRIDE;
  const len = a.pages * P;
  timedFaultLoop(cpu, res, (t) => {
    touchEveryPage(mm, base, base + len, t);
    t.faults += a.pages;
    if (do_madvise(mm, base, len, MADV_DONTNEED) === 0) return true;
    t.bad++;
    return false;
  });
}

/** A CPU churning mmap_lock for writing on a VMA of its own (bench-fault-churn.mjs's writer). */
function writerLoop(cpu: number, j: number, res: CpuResults): void {
  const mm = Atomics.load(mem.i32, ST.base() + ST.layout.mm);
  const r = CHURN_BASE + j * REGION_STRIDE;
  let loops = 0;
  let waits = 0;
  let fail = 0;
  res.arriveAndWait(runStopRequested);
  const s0 = schedstat();
  const t0 = performance.now();
  // At least one loop, however late the host runs this thread.
  do {
    mprotect(mm, r + 2 * P, 2 * P, PROT_READ); // split into three
    mprotect(mm, r + 2 * P, 2 * P, PROT_READ | PROT_WRITE); // merge back
    munmapRegion(mm, r + 8 * P, 2 * P); // a hole
    if (!mmapRegion(mm, r + 8 * P, 2 * P)) fail++; // refilled (merges back)
    loops++;
    if (rcuCallbacksPending() > RCU_BACKLOG) {
      rcu_barrier();
      waits++;
    }
  } while (!runStopRequested());
  endInterval(res, cpu, t0, s0);
  res.setField(cpu, F_OPS, loops);
  res.setField(cpu, F_BAD, fail);
  res.setField(cpu, F_RCU_WAITS, waits);
}

/** rcu_sched: the grace-period kthread, its time on a host core measured around it. */
function rcuSched(cpu: number, res: CpuResults): void {
  res.arriveAndWait(runStopRequested);
  const s0 = schedstat();
  const t0 = performance.now();
  try {
    rcu_gp_kthread();
  } finally {
    endInterval(res, cpu, t0, s0);
  }
}

/** The CPU worker's entry (cpu_loop.ts): fault CPUs, then writers, then rcu_sched. */
export function prepareCpu(args: unknown, cpu: number): CpuProgram {
  const a = args as EntryArgs;
  applyEra(eraNamed('fault-scaling', a.era));
  // Every CPU, rcu_sched too, meets at the start barrier and reports its time on a host core.
  const res = new CpuResults(a.results, a.faulters + a.writers + 1);
  return () => {
    const rcu = cpu === a.faulters + a.writers;
    const task = Atomics.load(mem.i32, rcu ? ST.base() + ST.layout.rcu : ST.base() + ST.layout.tasks + cpu);
    runAsTask(task, cpu, () => {
      if (rcu) rcuSched(cpu, res);
      else if (cpu < a.faulters) (a.shape === 'private' ? privateLoop : sharedVmaLoop)(cpu, a, res);
      else writerLoop(cpu, cpu - a.faulters, res);
    });
  };
}

// --- the main thread: one sample ------------------------------------------------------------

/** The era's per-VMA lock generation, or null: the mmap_lock path only. */
export function generationOf(era: EraProfile): string | null {
  return era.vmaLock?.generation ?? null;
}

/** The fault tasks' comm, per shape. */
const COMM: Record<Shape, string> = { private: 'page_fault1', 'shared-vma': 'pft' };

/** The VMAs the process had before the run: the writers' and the shared-VMA shape's one VMA. */
function mapBeforeRun(mm: number, a: Omit<EntryArgs, 'results'>): void {
  const i32 = mem.i32;
  const as = (cpu: number) => {
    cpuCtx.current = Atomics.load(i32, ST.base() + ST.layout.tasks + cpu);
  };
  if (a.shape === 'shared-vma') {
    as(0);
    // One VMA for every fault CPU's slice, each slice a PMD apart (PTE pages of its own).
    if (!mmapRegion(mm, FAULT_BASE, a.faulters * REGION_STRIDE))
      throw new Error('bench fault-scaling: setup could not map the shared VMA');
  }
  if (a.writers > 0) as(a.faulters);
  for (let j = 0; j < a.writers; j++)
    if (!mmapRegion(mm, CHURN_BASE + j * REGION_STRIDE, CHURN_PAGES * P))
      throw new Error('bench fault-scaling: setup could not map a writer VMA');
  cpuCtx.current = 0;
}

interface Measured {
  res: CpuResults;
  vmaLock: Record<string, number>;
  /** MM_ANONPAGES once the run stopped: every pass ends with its pages unmapped or dropped, so 0. */
  anonPagesLeft: number;
}

async function sample(
  machine: Machine,
  a: Omit<EntryArgs, 'results'>,
  durationMs: number,
): Promise<Measured> {
  const users = a.faulters + a.writers;
  const res = CpuResults.create(users + 1);
  const era = eraNamed('fault-scaling', a.era);
  let rcuTask = 0;
  await runSample(
    machine,
    {
      name: 'fault-scaling',
      entry: ownModule('experiments/bench/fault_scaling.js'),
      entryArgs: { ...a, results: res.sab } satisfies EntryArgs,
      ncpus: users + 1,
      durationMs,
      kthreadCpus: [users],
      cpuNames: [
        ...Array.from({ length: a.faulters }, () => 'fault'),
        ...Array.from({ length: a.writers }, () => 'mmap/munmap/mprotect'),
        'rcu_sched',
      ],
    },
    {
      setup() {
        kernelReset();
        applyEra(era);
        vmstatVmaLockReset();
        const i32 = mem.i32;
        const mm = mm_alloc();
        if (!mm) throw new Error('bench fault-scaling: out of memory for an mm_struct');
        Atomics.store(i32, ST.base() + ST.layout.mm, mm);
        for (let cpu = 0; cpu < users; cpu++) {
          const task = spawnTask(cpu < a.faulters ? COMM[a.shape] : 'mmap_churn', { mm });
          Atomics.store(i32, ST.base() + ST.layout.tasks + cpu, task);
        }
        rcuTask = spawnTask('rcu_sched', { kthread: true });
        Atomics.store(i32, ST.base() + ST.layout.rcu, rcuTask);
        mapBeforeRun(mm, a);
      },
      stopKthreads() {
        kthread_stop(rcuTask);
      },
    },
  );
  const bad = Array.from({ length: a.faulters }, (_, c) => res.field(c, F_BAD)).reduce((s, x) => s + x, 0);
  if (bad > 0) {
    const code = Array.from({ length: a.faulters }, (_, c) => res.field(c, F_CODE)).reduce(
      (s, x) => s | x,
      0,
    );
    throw new Error(
      `bench fault-scaling: ${a.era}, ${a.faulters} fault CPUs: ${bad} faults, mmaps or madvise calls failed (VM_FAULT_* OR'd: 0x${code.toString(16)})`,
    );
  }
  const anonPagesLeft = get_mm_counter(Atomics.load(mem.i32, ST.base() + ST.layout.mm), MM_ANONPAGES);
  return { res, vmaLock: vmstat_vma_lock(), anonPagesLeft };
}

// --- options --------------------------------------------------------------------------------

interface Opts {
  shapes: Shape[];
  eras: string[];
  churn: ('on' | 'off')[];
  writers: number;
  pages: number;
}

// --- the experiment -------------------------------------------------------------------------

const sum = (xs: number[]): number => xs.reduce((s, x) => s + x, 0);

async function run(ctx: ExperimentContext): Promise<ExperimentOutput> {
  const o = ctx.options as unknown as Opts;
  const maxN = Math.max(...ctx.cpus);
  const maxWriters = o.churn.includes('on') ? o.writers : 0;
  if (maxN + maxWriters + 1 > MAX_CPUS)
    throw new ExperimentInputError(
      `fault-scaling: ${maxN} fault CPUs + ${maxWriters} writer${maxWriters === 1 ? '' : 's'} + rcu_sched = ${maxN + maxWriters + 1} CPUs, more than the machine's ${MAX_CPUS}`,
    );
  if (maxN * o.pages > MAX_REGION_PAGES)
    throw new ExperimentInputError(
      `fault-scaling: ${maxN} fault CPUs x --pages ${o.pages} = ${maxN * o.pages} pages at once, more than the ${MAX_REGION_PAGES} the machine's 1024 frames leave for them`,
    );
  try {
    return await measure(ctx, o);
  } finally {
    lock_stat_enable(false);
  }
}

async function measure(ctx: ExperimentContext, o: Opts): Promise<ExperimentOutput> {
  const { machine, hostCores } = ctx;
  const samples: Sample[] = [];
  const churns: Churn[] = o.churn.map((c) => ({ on: c === 'on', writers: c === 'on' ? o.writers : 0 }));
  const total = ctx.rounds * o.shapes.length * churns.length * ctx.cpus.length * o.eras.length;
  let done = 0;

  // Warm-up, not counted: TurboFan compiles each era's fault, mmap, munmap and madvise paths once.
  const warmMs = Math.min(150, Math.max(40, ctx.durationMs));
  const maxN = Math.max(...ctx.cpus);
  for (const shape of o.shapes)
    for (const era of o.eras) {
      ctx.progress(done, total, `warm-up: ${shape}, ${era}`);
      const a = { shape, era, faulters: maxN, writers: Math.min(1, o.writers), pages: o.pages };
      await sample(machine, a, warmMs);
    }
  // lock_stat from here on: the warm-up's acquisitions are not the experiment's.
  lock_stat_enable(ctx.lockStat);
  if (ctx.lockStat) lockStatClear();
  const load0 = loadavg()[0]!;
  for (let round = 0; round < ctx.rounds; round++)
    for (const shape of o.shapes)
      for (const ch of churns)
        for (const n of ctx.cpus) {
          // Eras next to each other for each setting (their ratios compare samples close in time), in
          // a rotated order from round to round, so that host drift spreads over all of them.
          const k = round % o.eras.length;
          for (const era of [...o.eras.slice(k), ...o.eras.slice(0, k)]) {
            const writers = ch.on ? `${ch.writers} writer${ch.writers > 1 ? 's' : ''}` : 'no writer';
            ctx.progress(
              done,
              total,
              `round ${round + 1}: ${shape}, ${era}, ${n} fault CPU${n > 1 ? 's' : ''}, ${writers}`,
            );
            const a = { shape, era, faulters: n, writers: ch.writers, pages: o.pages };
            const m = await sample(machine, a, ctx.durationMs);
            samples.push(toSample(m, a, ch, round, hostCores));
            done++;
          }
        }
  ctx.progress(total, total, 'done');
  const load1 = loadavg()[0]!;
  const lockStat = ctx.lockStat ? lockStatText() : undefined;
  const plan: Plan = {
    shapes: o.shapes,
    eras: o.eras.map((name) => ({ name, generation: generationOf(eraNamed('fault-scaling', name)) })),
    churns,
    cpus: ctx.cpus,
    pages: o.pages,
    rcuBacklog: RCU_BACKLOG,
    load: `1-min load ${load0.toFixed(2)} at start, ${load1.toFixed(2)} at end on ${hostCores} host cores`,
  };
  const out = faultReport(samples, plan, ctx);
  return { ...out, ...(lockStat ? { lockStat } : {}) };
}

function toSample(
  m: Measured,
  a: Omit<EntryArgs, 'results'>,
  ch: Churn,
  round: number,
  hostCores: number,
): Sample {
  const { era, faulters: n } = a;
  const { res } = m;
  const fCpus = [...Array(n).keys()];
  const wCpus = Array.from({ length: ch.writers }, (_, j) => n + j);
  const f = (cpus: number[], k: number) => cpus.map((c) => res.field(c, k));
  // Each CPU's count over its own interval, summed.
  const rate = (cpus: number[]) =>
    sum(cpus.map((c) => (res.field(c, F_MS) > 0 ? res.field(c, F_OPS) / (res.field(c, F_MS) / 1000) : 0)));
  const faultsPerSec = rate(fCpus);
  const h = mergedHistogram(res, fCpus, H_FAULT);
  const pct = (p: number) => (h && h.totalCount > 0 ? h.getValueAtPercentile(p) : null);
  const wall = sum(f(fCpus, F_MS));
  const onCpu = sum(f(fCpus, F_ONCPU_MS));
  const rq = sum(f(fCpus, F_RQ_MS));
  const rcuWall = res.field(n + ch.writers, F_MS);
  const rcuOnCpu = res.field(n + ch.writers, F_ONCPU_MS);
  const wWall = sum(f(wCpus, F_MS));
  const wOnCpu = sum(f(wCpus, F_ONCPU_MS));
  const known = Number.isFinite(onCpu) && Number.isFinite(rq) && wall > 0;
  const gen = generationOf(eraNamed('fault-scaling', era));
  return {
    group: groupOf(a.shape, ch),
    series: era,
    cpus: n,
    round,
    oversubscribed: n > hostCores,
    params: {
      shape: a.shape,
      era,
      path: gen === null ? 'mmap_lock' : `per-VMA (${gen})`,
      churn: ch.on ? 'on' : 'off',
      writers: ch.writers,
      pages: a.pages,
      allCpus: n + ch.writers + 1,
    },
    metrics: {
      faults: sum(f(fCpus, F_OPS)),
      faultsPerSec: Math.round(faultsPerSec),
      faultsPerSecPerCpu: Math.round(faultsPerSec / n),
      meanNs: h && h.totalCount > 0 ? Math.round(h.mean) : null,
      p50Ns: pct(50),
      p90Ns: pct(90),
      p99Ns: pct(99),
      maxNs: h ? h.maxValue : null,
      loops: sum(f(fCpus, F_LOOPS)),
      faultRcuWaits: sum(f(fCpus, F_RCU_WAITS)),
      anonPagesLeft: m.anonPagesLeft,
      VMA_LOCK_SUCCESS: m.vmaLock.VMA_LOCK_SUCCESS!,
      VMA_LOCK_ABORT: m.vmaLock.VMA_LOCK_ABORT!,
      VMA_LOCK_RETRY: m.vmaLock.VMA_LOCK_RETRY!,
      VMA_LOCK_MISS: m.vmaLock.VMA_LOCK_MISS!,
      writerLoopsPerSec: ch.writers ? Math.round(rate(wCpus)) : null,
      writerRcuWaits: ch.writers ? sum(f(wCpus, F_RCU_WAITS)) : null,
      writerMmapFails: ch.writers ? sum(f(wCpus, F_BAD)) : null,
      // The fault CPUs' time on host cores over their wall time (n CPUs that each had a core: n),
      // and the share of their wall time they waited on the host's run queue.
      coresUsed: known ? (onCpu / wall) * n : null,
      // rcu_sched's time on a host core over its wall time: the grace periods and callbacks it ran.
      rcuCoresUsed: rcuWall > 0 && Number.isFinite(rcuOnCpu) ? rcuOnCpu / rcuWall : null,
      runqueueWait: known ? rq / wall : null,
      writerCoresUsed:
        ch.writers && wWall > 0 && Number.isFinite(wOnCpu) ? (wOnCpu / wWall) * ch.writers : null,
    },
  };
}

export const experiment: Experiment = {
  name: 'fault-scaling',
  description:
    'will-it-scale page_fault1 in thread mode (N CPUs mmap/touch/munmap) and one shared VMA (N CPUs touch/madvise(MADV_DONTNEED) their slices), with and without a writer churning mmap_lock; faults/s, fault latency, VMA_LOCK_* per era',
  defaults: { cpus: [1, 2, 4], durationMs: 150, rounds: 2 },
  options: [
    {
      flags: '--shapes <list>',
      description:
        "fault CPUs' loops: private (page_fault1: mmap a region of its own, write every page, munmap) and shared-vma (one VMA mapped before the run: write every page of the CPU's slice, madvise(MADV_DONTNEED) it)",
      parse: parseChoices('--shapes', SHAPES),
      default: 'private',
    },
    {
      flags: '--eras <list>',
      description:
        'eras to compare: mmap_lock only (v5.17, v6.1) and per-VMA lock generations (rfc-2022-09, v6.4, v6.6, v6.15); the first mmap_lock-only era is the baseline of the speedups',
      parse: parseEraList,
      default: 'v6.1,rfc-2022-09,v6.4,v6.15',
    },
    {
      flags: '--churn <list>',
      description:
        'with writer CPUs churning mmap/munmap/mprotect on unrelated ranges (on), without (off), or both',
      parse: parseChoices('--churn', ['on', 'off'] as const),
      default: 'on,off',
    },
    {
      flags: '--writers <n>',
      description: 'writer CPUs when --churn is on (each takes mmap_lock for writing 4 times a loop)',
      parse: intFlag('--writers', 1, MAX_CPUS - 2),
      default: '1',
    },
    {
      flags: '--pages <n>',
      description:
        "pages each fault CPU touches per loop: its region's (private; will-it-scale: 32768) or its slice of the shared VMA (the machine has 1024 frames)",
      parse: intFlag('--pages', 1, MAX_REGION_PAGES),
      default: '128',
    },
  ],
  run,
};
