// `mmrace bench exit-cost`: what each era's exit_mmap() locking costs an exiting process, the
// question of the 2017 and 2021 threads (kernel-mm.md §7, perf-anchors.md): Michal Hocko's 2017
// unconditional mmap_sem write lock in exit_mmap was refused over Kirill Shutemov's ~4% slowdown
// concern; Suren Baghdasaryan's Nov 2021 patch (v5.17) took it anyway, measured with a fork/exit
// timer at 1.6% worst case on p50. Here, per era, on one CPU of the machine:
// - exit: an mm of --vmas x --pages private anonymous pages, mapped and faulted in (not timed), then
//   its last mmput(): __mmput() -> the era's exit_mmap() (v4.17: no lock for a non-victim; v5.17:
//   mmap_write_lock across the teardown; v6.1: read lock for unmap_vmas, then the write lock), on
//   the era's own rw_semaphore and VMA container;
// - fork-exit: Suren's timer shape: a populated parent, then dup_mm() (fork's copy of its VMAs and
//   PTEs) and the child's last mmput(), timed together;
// - exit-reaper: the exit of an OOM victim (MMF_OOM_VICTIM where the era has it) while a second
//   CPU makes one oom_reap_task_mm() pass over the same mm, started just before the exit: the
//   contended cost (v4.17 self-reaps and waits at its write-lock barrier for a reaper inside its
//   read lock, v5.17 waits for it before the whole teardown, v6.1 zaps beside it under the read
//   lock and waits only before freeing page tables). The reaper's pass is the era's own (its
//   mmap_read_trylock(), its MMF_OOM_SKIP test), without the queueing and delays around it.
// - exit-mrelease: a killed process (SIGNAL_GROUP_EXIT) leaves its mm (exit_mm(): task->mm
//   cleared under task_lock, then its mmput()) while lmkd on a second CPU calls process_mrelease()
//   on it, started just before: the era's own process_mrelease (v4.17: ENOSYS, no syscall 448;
//   v5.17: mmgrab() and the reap under mmap_read_lock_killable(), which v5.17's exit_mmap waits
//   for; v6.1: the reap beside exit_mmap's read-locked unmap). lmkd gets -ESRCH when the exit
//   cleared task->mm first.
// Every iteration's time goes into an HdrHistogram; a sample is one --duration of iterations, and
// --rounds samples per era (eras interleaved within a round, so that host drift spreads over all).
// The ratio is each era's median p50 over the first era's (the lock-free one by default).
import { loadavg } from 'node:os';
import { cpuCtx } from '../../cpu/context.js';
import { runStopRequested } from '../../cpu/control.js';
import type { CpuProgram } from '../../cpu/cpu_loop.js';
import type { Machine } from '../../cpu/machine.js';
import { ownModule } from '../../cpu/own_modules.js';
import { applyEra, type EraProfile } from '../../eras/index.js';
import { set_bit } from '../../kernel/bitops.js';
import { ESRCH } from '../../kernel/errno.js';
import { mm_alloc, mmdrop, mmgrab, mmput, spawnTask } from '../../kernel/fork.js';
import { get_task_struct, put_task_struct } from '../../kernel/sched.js';
import { task_lock, task_unlock } from '../../kernel/task_lock.js';
import { SIGNAL, SIGNAL_GROUP_EXIT, TASK } from '../../kernel/task_struct.js';
import { dup_mm } from '../../mm/dup_mmap.js';
import { mmf, mmfBits, oom_reap_task_mm, process_mrelease } from '../../mm/era_ops.js';
import { MM } from '../../mm/mm_types.js';
import { nr_free_pages } from '../../mm/page_alloc.js';
import { kernelReset } from '../../scenarios/kernel_image.js';
import { populateAnon } from '../../scenarios/populate.js';
import { mem } from '../../shm/arena.js';
import { defineStatics } from '../../shm/statics.js';
import { CpuResults, type Histogram, newWaitHistogram } from '../bench_kit/cpu_results.js';
import { runAsTask } from '../bench_kit/on_cpu.js';
import { eraNamed, runSample } from '../bench_kit/sample.js';
import { fmt, intFlag, median, parseChoices, parseEraList } from '../bench_kit/stats.js';
import {
  type Experiment,
  type ExperimentContext,
  ExperimentInputError,
  type ExperimentOutput,
  type Figure,
  type Headline,
  type ResultTable,
  type Sample,
} from '../experiment.js';

// The victim's task, the reaper's, lmkd's; the handshake of the contended shapes: the mm handed
// over, the iteration the second CPU started and finished, its passes that reaped (or, for lmkd,
// got -ESRCH), and the victim's last word.
const ST = defineStatics('bench_exit_cost', [
  'task',
  'reaper',
  'lmkd',
  'mm',
  'seq',
  'started',
  'done',
  'reaped',
  'esrch',
  'quit',
]);
type Word = 'mm' | 'seq' | 'started' | 'done' | 'reaped' | 'esrch' | 'quit';
const WORDS: readonly Word[] = ['mm', 'seq', 'started', 'done', 'reaped', 'esrch', 'quit'];
const word = (w: Word): number => ST.base() + ST.layout[w];
const load = (w: Word): number => Atomics.load(mem.i32, word(w));
const store = (w: Word, v: number): void => void Atomics.store(mem.i32, word(w), v);
/** Private anonymous mappings, one PMD apart (each its own PTE page). */
const VMA_STRIDE = 0x00400000;
const VMA_BASE = 0x08000000;

type Shape = 'exit' | 'fork-exit' | 'exit-reaper' | 'exit-mrelease';
const SHAPES: readonly Shape[] = ['exit', 'fork-exit', 'exit-reaper', 'exit-mrelease'];
const contended = (shape: Shape): boolean => shape === 'exit-reaper' || shape === 'exit-mrelease';
const cpusOf = (shape: Shape): number => (contended(shape) ? 2 : 1);

interface EntryArgs {
  shape: Shape;
  era: string;
  vmas: number;
  pages: number;
  results: SharedArrayBuffer;
}

const MIN_ITERS = 50;
const F_ITERS = 0;
const F_LEAK = 1;
const F_REAPED = 2;
const F_ESRCH = 3;
const H_TIME = 0;

const vmaAddrs = (n: number): number[] => Array.from({ length: n }, (_, i) => VMA_BASE + i * VMA_STRIDE);

/** A fresh process image: an mm with `pages` faulted-in pages at each address, as `task`'s. */
function populatedMm(task: number, addrs: readonly number[], pages: number): number {
  const mm = mm_alloc();
  if (!mm) throw new RangeError('bench exit-cost: out of memory for an mm_struct');
  Atomics.store(mem.i32, task + TASK.mm, mm);
  Atomics.store(mem.i32, task + TASK.active_mm, mm);
  populateAnon(mm, addrs, pages);
  return mm;
}

/** Times `teardown`, in ns, into `h`. */
function timed(h: Histogram, teardown: () => void): void {
  const t0 = performance.now();
  teardown();
  h.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1e6)));
}

/**
 * A contended shape's iteration: the mm handed to the second CPU, which starts its pass on it;
 * then the timed teardown. Untimed: the pass (and its mmdrop) ends before the next build or the
 * leak check; only a second CPU gone for 2 s past the stop (a crash) is given up on. False then.
 */
function beside(mm: number, h: Histogram, iters: number, teardown: () => void): boolean {
  store('mm', mm);
  Atomics.add(mem.i32, word('seq'), 1);
  const seq = load('seq');
  while (load('started') !== seq) if (runStopRequested() && iters >= MIN_ITERS) break;
  timed(h, teardown);
  const tw = performance.now();
  while (load('done') !== seq) if (runStopRequested() && performance.now() - tw > 2000) break;
  return load('done') === seq;
}

// kernel/exit.c exit_mm(), v5.17, reduced to what process_mrelease() can meet: task->mm cleared
// under task_lock (find_lock_task_mm() then sees NULL), then the process's mmput().
function exit_mm_of(task: number, mm: number): void {
  task_lock(task);
  Atomics.store(mem.i32, task + TASK.mm, 0);
  task_unlock(task);
  mmput(mm);
}

/** One iteration of `shape`; false when the second CPU is gone (the sample ends). */
function iteration(a: EntryArgs, task: number, parent: number, h: Histogram, iters: number): boolean {
  const addrs = vmaAddrs(a.vmas);
  if (a.shape === 'fork-exit') {
    timed(h, () => {
      const child = dup_mm(task, parent);
      if (!child) throw new RangeError('bench exit-cost: dup_mm ran out of memory');
      mmput(child);
    });
    return true;
  }
  const mm = populatedMm(task, addrs, a.pages);
  if (a.shape === 'exit') {
    timed(h, () => mmput(mm)); // the last reference: __mmput() -> exit_mmap()
    return true;
  }
  if (a.shape === 'exit-mrelease') return beside(mm, h, iters, () => exit_mm_of(task, mm));
  if (mmfBits.bits.MMF_OOM_VICTIM !== undefined) set_bit(mmf('MMF_OOM_VICTIM'), mm + MM.flags);
  mmgrab(mm); // the reaper's reference (oom_reaper_list holds the task, the task its mm)
  return beside(mm, h, iters, () => mmput(mm));
}

/** The CPU's loop: build (untimed), tear down (timed), until the run is stopped. */
function exitLoop(a: EntryArgs, res: CpuResults): void {
  const task = Atomics.load(mem.i32, ST.base() + ST.layout.task);
  const h: Histogram = newWaitHistogram();
  const free0 = nr_free_pages();
  let iters = 0;
  // fork-exit: one parent for the whole sample, as Suren's timer forks one process again and again.
  const parent = a.shape === 'fork-exit' ? populatedMm(task, vmaAddrs(a.vmas), a.pages) : 0;
  // At least MIN_ITERS, however short the sample: a p50 of two iterations would be the JIT's.
  while (iters < MIN_ITERS || !runStopRequested()) {
    if (!iteration(a, task, parent, h, iters)) break;
    iters++;
  }
  if (parent) mmput(parent);
  store('quit', 1);
  Atomics.store(mem.i32, task + TASK.mm, 0);
  Atomics.store(mem.i32, task + TASK.active_mm, 0);
  res.setField(0, F_ITERS, iters);
  // Every teardown must give back what its build took: a leak would make the timing meaningless.
  res.setField(0, F_LEAK, free0 - nr_free_pages());
  res.setField(0, F_REAPED, load('reaped'));
  res.setField(0, F_ESRCH, load('esrch'));
  res.putHistogram(0, H_TIME, h);
}

/** The second CPU's loop: `pass` on every mm handed over, until the victim's last word. */
function secondCpuLoop(pass: (mm: number) => void): void {
  let seen = 0;
  for (;;) {
    let seq = load('seq');
    while (seq === seen && !load('quit')) seq = load('seq');
    if (seq === seen) return;
    seen = seq;
    const mm = load('mm');
    store('started', seq);
    pass(mm);
    store('done', seq);
  }
}

/** The reaper CPU of exit-reaper: one oom_reap_task_mm() pass per mm handed over, then mmdrop(). */
function reaperLoop(): void {
  const tsk = Atomics.load(mem.i32, ST.base() + ST.layout.task);
  secondCpuLoop((mm) => {
    if (oom_reap_task_mm(tsk, mm)) Atomics.add(mem.i32, word('reaped'), 1);
    mmdrop(mm);
  });
}

/** lmkd's CPU of exit-mrelease: process_mrelease(pidfd of the victim, 0) per mm handed over. */
function lmkdLoop(): void {
  const victim = Atomics.load(mem.i32, ST.base() + ST.layout.task);
  secondCpuLoop(() => {
    get_task_struct(victim); // the pidfd
    const ret = process_mrelease(victim, 0);
    put_task_struct(victim); // close(pidfd)
    if (ret === 0) Atomics.add(mem.i32, word('reaped'), 1);
    else if (ret === -ESRCH) Atomics.add(mem.i32, word('esrch'), 1);
  });
}

/** The CPU worker's entry (cpu_loop.ts). */
export function prepareCpu(args: unknown, cpu: number): CpuProgram {
  const a = args as EntryArgs;
  applyEra(eraNamed('exit-cost', a.era));
  const res = new CpuResults(a.results, 1);
  const second = a.shape === 'exit-mrelease' ? ST.layout.lmkd : ST.layout.reaper;
  return () => {
    const task = Atomics.load(mem.i32, ST.base() + (cpu === 0 ? ST.layout.task : second));
    runAsTask(task, cpu, () =>
      cpu === 0 ? exitLoop(a, res) : a.shape === 'exit-mrelease' ? lmkdLoop() : reaperLoop(),
    );
  };
}

interface Measured {
  iters: number;
  /**
   * exit-reaper: the reaper's passes that got the read lock (reaped, or found MMF_OOM_SKIP set);
   * exit-mrelease: lmkd's process_mrelease() calls that returned 0.
   */
  reaped: number;
  /** exit-mrelease: lmkd's calls that found task->mm already cleared (-ESRCH). */
  esrch: number;
  h: Histogram;
}

async function sample(
  machine: Machine,
  a: Omit<EntryArgs, 'results'>,
  durationMs: number,
): Promise<Measured> {
  const res = CpuResults.create(1);
  const era = eraNamed('exit-cost', a.era);
  await runSample(
    machine,
    {
      name: 'exit-cost',
      entry: ownModule('experiments/bench/exit_cost.js'),
      entryArgs: { ...a, results: res.sab } satisfies EntryArgs,
      ncpus: cpusOf(a.shape),
      durationMs,
    },
    {
      setup() {
        kernelReset();
        applyEra(era);
        Atomics.store(mem.i32, ST.base() + ST.layout.task, spawnTask('bench_exit'));
        Atomics.store(mem.i32, ST.base() + ST.layout.reaper, spawnTask('oom_reaper', { kthread: true }));
        Atomics.store(mem.i32, ST.base() + ST.layout.lmkd, spawnTask('lmkd'));
        // exit-mrelease's victim was killed: task_will_free_mem() sees its group exiting.
        const task = Atomics.load(mem.i32, ST.base() + ST.layout.task);
        const sig = Atomics.load(mem.i32, task + TASK.signal);
        Atomics.or(mem.i32, sig + SIGNAL.flags, SIGNAL_GROUP_EXIT);
        for (const w of WORDS) store(w, 0);
        cpuCtx.current = 0;
      },
    },
  );
  const leak = res.field(0, F_LEAK);
  if (leak !== 0) throw new Error(`bench exit-cost: ${a.era} ${a.shape}: ${leak} pages not freed`);
  const h = res.histogram(0, H_TIME);
  if (!h) throw new Error('bench exit-cost: no histogram came back');
  return { iters: res.field(0, F_ITERS), reaped: res.field(0, F_REAPED), esrch: res.field(0, F_ESRCH), h };
}

/** What each era's exit_mmap holds, for the table (kernel-mm.md §1). */
function lockingOf(era: EraProfile): string {
  const f = era.mm.exit_mmap.name.replace(/^exit_mmap_/, '');
  const how: Record<string, string> = {
    v4_13: 'no lock',
    v4_14: 'no lock; victims: write-lock barrier',
    v4_15: 'no lock; victims: write-lock barrier',
    v4_17: 'no lock; victims: self-reap + barrier',
    v5_17: 'mmap_write_lock across the teardown',
    v5_17_rc1: 'mmap_write_lock across the teardown',
    v6_1: 'read lock (unmap), then write lock',
    rfc_2022_05: 'read lock (unmap), then write lock',
  };
  return how[f] ?? f;
}

interface Opts {
  eras: string[];
  shapes: Shape[];
  vmas: number;
  pages: number;
}

const us = (ns: number | null): number | null => (ns === null ? null : Math.round(ns / 10) / 100);

async function run(ctx: ExperimentContext): Promise<ExperimentOutput> {
  const o = ctx.options as unknown as Opts;
  if (ctx.cpus.length !== 1 || ctx.cpus[0] !== 1)
    throw new ExperimentInputError(
      'exit-cost: its shapes fix their CPUs (1; exit-reaper and exit-mrelease 2); --cpus must be 1',
    );
  const samples: Sample[] = [];
  const total = o.shapes.length * o.eras.length * (ctx.rounds + 1);
  let done = 0;
  const base = { vmas: o.vmas, pages: o.pages };
  // Warm-up, not counted: TurboFan compiles each era's teardown path once.
  const warmMs = 200;
  for (const shape of o.shapes)
    for (const era of o.eras) {
      ctx.progress(done, total, `warm-up: ${era} ${shape}`);
      await sample(ctx.machine, { ...base, shape, era }, warmMs);
      done++;
    }
  const load0 = loadavg()[0]!;
  for (let round = 0; round < ctx.rounds; round++)
    for (const shape of o.shapes)
      for (const era of round % 2 ? [...o.eras].reverse() : o.eras) {
        ctx.progress(done, total, `round ${round + 1}: ${era} ${shape}`);
        const m = await sample(ctx.machine, { ...base, shape, era }, ctx.durationMs);
        const p = (q: number) => m.h.getValueAtPercentile(q);
        samples.push({
          group: shape,
          series: era,
          cpus: cpusOf(shape),
          round,
          oversubscribed: cpusOf(shape) > ctx.hostCores,
          params: {
            era,
            exit_mmap: eraNamed('exit-cost', era).mm.exit_mmap.name,
            vmas: o.vmas,
            pages: o.pages,
          },
          metrics: {
            iterations: m.iters,
            p50Ns: p(50),
            p90Ns: p(90),
            p95Ns: p(95),
            p99Ns: p(99),
            maxNs: m.h.maxValue,
            meanNs: Math.round(m.h.mean),
            ...(shape === 'exit-reaper' ? { reaperPassesDone: m.reaped } : {}),
            ...(shape === 'exit-mrelease' ? { mreleaseReaped: m.reaped, mreleaseEsrch: m.esrch } : {}),
          },
        });
        done++;
      }
  ctx.progress(total, total, 'done');
  return report(ctx, o, samples, load0);
}

function report(ctx: ExperimentContext, o: Opts, samples: Sample[], load0: number): ExperimentOutput {
  const tables: ResultTable[] = [];
  const figures: Figure[] = [];
  const notes: string[] = [];
  const headlines: Headline[] = [];
  const baseline = o.eras[0]!;
  const figData: Record<string, string | number | null>[] = [];
  for (const shape of o.shapes) {
    const of = (era: string, k: string) =>
      samples.filter((s) => s.group === shape && s.series === era).map((s) => s.metrics[k] as number);
    const baseP50 = median(of(baseline, 'p50Ns'));
    const rows = o.eras.map((era) => {
      const p50s = of(era, 'p50Ns');
      const m = median(p50s);
      const ratio = m !== null && baseP50 ? m / baseP50 : null;
      figData.push({ shape, era, p50Us: us(m), ratio });
      return [
        era,
        lockingOf(eraNamed('exit-cost', era)),
        `${eraNamed('exit-cost', era).rwsem.name}; ${eraNamed('exit-cost', era).vma.name.replace(/ \(.*\)/, '')}`,
        Math.round(median(of(era, 'iterations')) ?? 0),
        us(m),
        `${us(Math.min(...p50s))}–${us(Math.max(...p50s))}`,
        us(median(of(era, 'p95Ns'))),
        us(median(of(era, 'p99Ns'))),
        ratio === null ? null : fmt(ratio, 3),
      ];
    });
    const what = {
      exit: `the last mmput() of an mm with ${o.vmas} x ${o.pages} faulted-in anonymous pages, 1 CPU`,
      'fork-exit': `dup_mm() of a parent with ${o.vmas} x ${o.pages} anonymous pages + the child's last mmput(), 1 CPU`,
      'exit-reaper': `an OOM victim's last mmput() (${o.vmas} x ${o.pages} pages) while CPU1 makes one oom_reap_task_mm() pass on its mm`,
      'exit-mrelease': `a killed process's exit_mm() (${o.vmas} x ${o.pages} pages) while lmkd on CPU1 calls process_mrelease() on it`,
    }[shape];
    tables.push({
      id: `exit-cost-${shape}`,
      title: `${shape}: ${what}; ${ctx.rounds} rounds of ${ctx.durationMs} ms`,
      columns: [
        'era',
        'exit_mmap locking',
        'rw_semaphore; VMA container',
        'iterations/round',
        'p50 µs (median)',
        'p50 spread µs',
        'p95 µs',
        'p99 µs',
        `÷ ${baseline}`,
      ],
      rows,
      notes: [
        {
          exit: 'published: the write lock in exit_mmap, uncontended, ~4% slower (Kirill Shutemov, 2017, a concern, not a measurement) and 1.6% worst case at p50 (Suren Baghdasaryan, Nov 2021, fork/exit timer)',
          'fork-exit':
            'published: Suren Baghdasaryan, Nov 2021: p50 +1.6% worst case with the write lock (v5.17) over v5.16',
          'exit-reaper':
            "no published figure: the exit waits for the reaper's read lock at v4.17's barrier, before v5.17's whole teardown, before v6.1's page-table freeing; reaper passes that got the read lock (the rest: refused by mmap_read_trylock): " +
            o.eras
              .map(
                (era) =>
                  `${era} ${fmt(median(of(era, 'reaperPassesDone')) ?? 0, 3)} of ${fmt(median(of(era, 'iterations')) ?? 0, 3)}`,
              )
              .join(', '),
          'exit-mrelease':
            "no published figure: the exit waits for lmkd's read lock before v5.17's whole teardown, before v6.1's page-table freeing; v4.17 has no process_mrelease (ENOSYS: the exit runs alone). lmkd's calls that reaped, and that found task->mm gone (-ESRCH): " +
            o.eras
              .map(
                (era) =>
                  `${era} ${fmt(median(of(era, 'mreleaseReaped')) ?? 0, 3)} and ${fmt(median(of(era, 'mreleaseEsrch')) ?? 0, 3)} of ${fmt(median(of(era, 'iterations')) ?? 0, 3)}`,
              )
              .join(', '),
        }[shape],
      ],
    });
  }
  figures.push({
    id: 'exit-cost-p50',
    title: `Teardown p50 by era (median of ${ctx.rounds} rounds), 1 CPU`,
    data: figData,
    x: { field: 'era', title: 'era', type: 'nominal' },
    y: { field: 'p50Us', title: 'p50 (µs)' },
    series: { field: 'era', title: 'era' },
    mark: 'bar',
    column: { field: 'shape', title: 'shape' },
  });
  figures.push({
    id: 'exit-cost-ratio',
    title: `p50 relative to ${baseline} (1 = no cost), median of ${ctx.rounds} rounds, 1 CPU`,
    data: figData,
    x: { field: 'era', title: 'era', type: 'nominal' },
    y: { field: 'ratio', title: `p50 ÷ ${baseline}`, zero: false },
    series: { field: 'shape', title: 'shape' },
    mark: 'line',
    rules: [
      { y: 1.016, label: 'Suren 2021: +1.6%' },
      { y: 1.04, label: 'Kirill 2017: ~4%' },
    ],
  });
  for (const shape of o.shapes)
    for (const era of o.eras.slice(1)) {
      const r = figData.find((d) => d.shape === shape && d.era === era)?.ratio as number | null;
      if (r === null || r === undefined) continue;
      const pctCost = (r - 1) * 100;
      headlines.push({
        figure: `exit-cost: ${shape} p50, ${era}`,
        ratio: r,
        baseline,
        published: contended(shape)
          ? 'none (contended; uncontended: 1.016x, Nov 2021)'
          : '1.016x worst case (Nov 2021); ~1.04x feared (2017)',
      });
      notes.push(
        `${shape}: ${era} ${pctCost >= 0 ? '+' : ''}${pctCost.toFixed(1)}% at p50 over ${baseline} ` +
          (contended(shape)
            ? '(contended: no published figure)'
            : '(published: +1.6% worst case at p50, Nov 2021; ~4% feared in 2017)'),
      );
    }
  const containers = new Set(o.eras.map((e) => eraNamed('exit-cost', e).vma.name));
  if (containers.size > 1)
    notes.push(
      'the eras differ in more than the lock: the VMA container (vm_next list to v6.0, maple tree from v6.1) and its walk, dup_mmap and teardown differ too, so a ratio across containers is not the lock cost alone; compare eras on one container (v4.17 and v5.17) for that',
    );
  notes.push(
    `1 CPU (exit-reaper, exit-mrelease: 2); host load average ${load0.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end (${ctx.hostCores} host cores); KASAN shadow checks on in every era alike`,
  );
  return { samples, tables, figures, notes, headlines };
}

export const experiment: Experiment = {
  name: 'exit-cost',
  description:
    "each era's exit_mmap locking: an mm's last mmput(), a fork+exit timer, an OOM victim's exit beside a reaper pass or lmkd's process_mrelease(); p50/p95/p99 and the ratio to the lock-free era",
  defaults: { cpus: [1], durationMs: 300, rounds: 5 },
  options: [
    {
      flags: '--eras <list>',
      description:
        'eras to compare; the first is the baseline of the ratios (v4.17: no lock for a non-victim)',
      parse: parseEraList,
      default: 'v4.17,v5.17,v6.1',
    },
    {
      flags: '--shapes <list>',
      description:
        'exit (an mm torn down), fork-exit (dup_mm + the child torn down), exit-reaper (an OOM victim torn down beside a reaper pass, 2 CPUs), exit-mrelease (a killed process torn down beside process_mrelease(), 2 CPUs)',
      parse: parseChoices('--shapes', SHAPES),
      default: 'exit,fork-exit,exit-reaper,exit-mrelease',
    },
    {
      flags: '--vmas <n>',
      description: 'anonymous mappings per mm',
      parse: intFlag('--vmas', 1, 64),
      default: '4',
    },
    {
      flags: '--pages <n>',
      description: 'faulted-in pages per mapping',
      parse: intFlag('--pages', 1, 512),
      default: '32',
    },
  ],
  run,
};
