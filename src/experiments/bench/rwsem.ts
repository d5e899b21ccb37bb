// `mmrace bench rwsem`: the emulator's rw_semaphore on real threads, locktorture-style.
//
// Two parts:
// - mixes: reader and writer CPUs (locktorture's kthreads: each CPU only reads or only writes)
//   hammer one rw_semaphore for --duration; per ratio (--mixes R:W), hold time (--hold µs, a busy
//   hold inside the section), writer optimistic spinning (--spin, CONFIG_RWSEM_SPIN_ON_OWNER) and
//   handoff (--handoff, v5.3+ algorithms only), for the rw_semaphore of each era (--eras: v4.14's
//   rwsem-xadd.c, v6.6's rwsem.c, ...). Throughput, the wait of every acquisition in an
//   HdrHistogram (read and write separately), and locktorture's starvation flag (`???`: among the
//   CPUs of one kind, max / 2 > min acquisitions).
// - scaling: 1 -> N reader CPUs, nothing else, on the shared count of an rw_semaphore (every
//   down_read/up_read is an atomic add on one word) and on seqcount readers (which write nothing
//   shared), throughput relative to one CPU, beside the published figures (perf-anchors.md §4
//   anchor 4: Waiman Long's down_read_trylock 1 -> 2 threads 0.57x; seqcount > 1.5x).
//
// Every sample is one campaign of one run on the shared machine. The CPUs meet at a start barrier
// (bench_kit/cpu_results.ts), run until the main thread stops the run, and hand back their counts
// and histograms through a SharedArrayBuffer of the sample's own. The tables, figures and findings
// are bench_rwsem/report.ts's.
import { loadavg } from 'node:os';
import { cpuCtx } from '../../cpu/context.js';
import { MAX_CPUS, runStopRequested } from '../../cpu/control.js';
import type { CpuProgram } from '../../cpu/cpu_loop.js';
import type { Machine } from '../../cpu/machine.js';
import { ownModule } from '../../cpu/own_modules.js';
import { applyEra, type EraProfile } from '../../eras/index.js';
import { spawnTask } from '../../kernel/fork.js';
import { lockStatClear } from '../../kernel/locking/lock_stat.js';
import { lockStatText } from '../../kernel/locking/lockdep_proc.js';
import { lock_stat_enable } from '../../kernel/locking/lockdep_state.js';
import { down_read, down_write, init_rwsem, RWSEM, up_read, up_write } from '../../kernel/locking/rwsem.js';
import { rwsem_handoff_enable, rwsem_spin_on_owner_enable } from '../../kernel/locking/rwsem_config.js';
import { read_seqcount_begin, read_seqcount_retry, seqcount_init } from '../../kernel/locking/seqlock.js';
import { kernelReset } from '../../scenarios/kernel_image.js';
import { mem } from '../../shm/arena.js';
import { defineStatics } from '../../shm/statics.js';
import { CpuResults, type Histogram, mergedHistogram, newWaitHistogram } from '../bench_kit/cpu_results.js';
import { runAsTask } from '../bench_kit/on_cpu.js';
import { eraNamed, runSample } from '../bench_kit/sample.js';
import { parseChoices, parseEraList, parseIntList } from '../bench_kit/stats.js';
import { threadCpuMs } from '../bench_kit/thread_cpu.js';
import {
  CONCURRENT,
  MIN_RETRY_MS,
  mixReport,
  SCALING_ATTEMPTS,
  scalingReport,
} from '../bench_rwsem/report.js';
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

// static DECLARE_RWSEM(bench_rwsem); a seqcount and the pair it guards, each on its own cache line.
const B = defineStatics('bench_rwsem', [
  `sem[${RWSEM.SIZE}]`,
  'pad0[16]',
  'seq',
  'data[2]',
  'pad1[16]',
  `tasks[${MAX_CPUS}]`,
]);
const semAddr = (): number => B.base() + B.layout.sem;
const seqAddr = (): number => B.base() + B.layout.seq;

// Per-CPU result fields and histogram kinds.
const F_OPS = 0;
const F_MS = 1;
const F_RETRIES = 2;
const F_CPU_MS = 3;
const H_READ = 0;
const H_WRITE = 1;

type Program = 'mix' | 'rwsem-readers' | 'seqcount-readers';

interface EntryArgs {
  program: Program;
  era: string;
  /** Per CPU: a writer (true) or a reader. */
  writers: boolean[];
  holdUs: number;
  results: SharedArrayBuffer;
}

// --- the CPUs -----------------------------------------------------------------------------

function busyUntil(t: number): void {
  while (performance.now() < t) {}
}

/** A reader or writer CPU of a mix: every acquisition's wait into the CPU's histogram. */
function mixLoop(cpu: number, write: boolean, holdMs: number, res: CpuResults): void {
  const sem = semAddr();
  const h: Histogram = newWaitHistogram();
  res.arriveAndWait(runStopRequested);
  let ops = 0;
  const c0 = threadCpuMs();
  const t0 = performance.now();
  while (!runStopRequested()) {
    const a = performance.now();
    if (write) down_write(sem);
    else down_read(sem);
    const b = performance.now();
    h.recordValue(Math.max(1, Math.round((b - a) * 1e6)));
    if (holdMs > 0) busyUntil(b + holdMs);
    if (write) up_write(sem);
    else up_read(sem);
    ops++;
  }
  res.setField(cpu, F_MS, performance.now() - t0);
  res.setField(cpu, F_CPU_MS, threadCpuMs() - c0);
  res.setField(cpu, F_OPS, ops);
  res.putHistogram(cpu, write ? H_WRITE : H_READ, h);
}

/** Checks for the stop every this many sections, so that the check costs the loop nothing. */
const BATCH = 256;

/** down_read + up_read and nothing else: the shared count's cache line is all there is. */
function rwsemReaders(cpu: number, res: CpuResults): void {
  const sem = semAddr();
  res.arriveAndWait(runStopRequested);
  let ops = 0;
  const c0 = threadCpuMs();
  const t0 = performance.now();
  while (!runStopRequested()) {
    for (let i = 0; i < BATCH; i++) {
      down_read(sem);
      up_read(sem);
    }
    ops += BATCH;
  }
  res.setField(cpu, F_MS, performance.now() - t0);
  res.setField(cpu, F_CPU_MS, threadCpuMs() - c0);
  res.setField(cpu, F_OPS, ops);
}

/** read_seqcount_begin, the two words, read_seqcount_retry: readers that write nothing shared. */
function seqcountReaders(cpu: number, res: CpuResults): void {
  const s = seqAddr();
  const d = B.base() + B.layout.data;
  const i32 = mem.i32;
  res.arriveAndWait(runStopRequested);
  let ops = 0;
  let retries = 0;
  let sink = 0;
  const c0 = threadCpuMs();
  const t0 = performance.now();
  while (!runStopRequested()) {
    for (let i = 0; i < BATCH; i++) {
      let seq: number;
      let a: number;
      let b: number;
      for (;;) {
        seq = read_seqcount_begin(s);
        a = Atomics.load(i32, d);
        b = Atomics.load(i32, d + 1);
        if (!read_seqcount_retry(s, seq)) break;
        retries++;
      }
      sink = (sink + a + b) | 0;
    }
    ops += BATCH;
  }
  res.setField(cpu, F_MS, performance.now() - t0);
  res.setField(cpu, F_CPU_MS, threadCpuMs() - c0);
  res.setField(cpu, F_OPS, ops + (sink & 0)); // sink keeps the reads alive
  res.setField(cpu, F_RETRIES, retries);
}

/** The CPU worker's entry (cpu_loop.ts). */
export function prepareCpu(args: unknown, cpu: number): CpuProgram {
  const a = args as EntryArgs;
  applyEra(eraNamed('rwsem', a.era));
  const res = new CpuResults(a.results, a.writers.length);
  const write = a.writers[cpu] === true;
  return () => {
    runAsTask(Atomics.load(mem.i32, B.base() + B.layout.tasks + cpu), cpu, () => {
      if (a.program === 'mix') mixLoop(cpu, write, a.holdUs / 1000, res);
      else if (a.program === 'rwsem-readers') rwsemReaders(cpu, res);
      else seqcountReaders(cpu, res);
    });
  };
}

// --- the main thread: one sample ------------------------------------------------------------

/** The post-v5.3 algorithm (rwsem.c) has the handoff bit; rwsem-xadd.c has none. */
function hasHandoff(era: EraProfile): boolean {
  return era.rwsem.source === 'kernel/locking/rwsem.c';
}

interface RunSpec {
  program: Program;
  era: string;
  writers: boolean[];
  holdUs: number;
  spin: boolean;
  /** null: the algorithm has none. */
  handoff: boolean | null;
}

interface RunResult {
  res: CpuResults;
  writers: boolean[];
}

async function runOnce(machine: Machine, spec: RunSpec, durationMs: number): Promise<RunResult> {
  const ncpus = spec.writers.length;
  const res = CpuResults.create(ncpus);
  const era = eraNamed('rwsem', spec.era);
  await runSample(
    machine,
    {
      name: 'rwsem',
      entry: ownModule('experiments/bench/rwsem.js'),
      entryArgs: {
        program: spec.program,
        era: spec.era,
        writers: spec.writers,
        holdUs: spec.holdUs,
        results: res.sab,
      } satisfies EntryArgs,
      ncpus,
      durationMs,
    },
    {
      setup() {
        kernelReset();
        applyEra(era);
        rwsem_spin_on_owner_enable(spec.spin);
        rwsem_handoff_enable(spec.handoff ?? null);
        init_rwsem(semAddr(), '&bench_rwsem');
        seqcount_init(seqAddr());
        const i32 = mem.i32;
        Atomics.store(i32, B.base() + B.layout.data, 0);
        Atomics.store(i32, B.base() + B.layout.data + 1, 0);
        for (let cpu = 0; cpu < ncpus; cpu++) {
          const task = spawnTask(spec.writers[cpu] ? 'bench_writer' : 'bench_reader', { kthread: true });
          Atomics.store(i32, B.base() + B.layout.tasks + cpu, task);
        }
        cpuCtx.current = 0;
      },
    },
  );
  return { res, writers: spec.writers };
}

/** ops/s of the CPUs given: each CPU's count over its own timed interval, summed. */
function rate(r: RunResult, cpus: readonly number[]): number {
  let s = 0;
  for (const c of cpus) {
    const ms = r.res.field(c, F_MS);
    if (ms > 0) s += r.res.field(c, F_OPS) / (ms / 1000);
  }
  return s;
}

/**
 * How much of the sample the host ran the CPUs: `coresUsed` is their CPU time over the sample's
 * wall time (2 CPUs that always had a core each: 2.0), `cpuShare` the same per CPU (1.0: never
 * waited for a core). null where the thread CPU time is not available.
 */
function hostShare(
  r: RunResult,
  cpus: readonly number[],
): { coresUsed: number | null; cpuShare: number | null } {
  let cpu = 0;
  let wall = 0;
  for (const c of cpus) {
    cpu += r.res.field(c, F_CPU_MS);
    wall += r.res.field(c, F_MS);
  }
  if (!Number.isFinite(cpu) || wall <= 0) return { coresUsed: null, cpuShare: null };
  return { coresUsed: (cpu / wall) * cpus.length, cpuShare: cpu / wall };
}

/** locktorture's `???`: among the CPUs of one kind, max / 2 > min acquisitions. */
function starved(r: RunResult, cpus: readonly number[]): { min: number; max: number; flag: boolean } {
  const n = cpus.map((c) => r.res.field(c, F_OPS));
  if (n.length === 0) return { min: 0, max: 0, flag: false };
  const min = Math.min(...n);
  const max = Math.max(...n);
  return { min, max, flag: Math.trunc(max / 2) > min };
}

function pct(h: Histogram | null, p: number): number | null {
  return h && h.totalCount > 0 ? h.getValueAtPercentile(p) : null;
}

// --- options --------------------------------------------------------------------------------

/** `R:W`, e.g. 3:1: readers per writer. */
interface Mix {
  name: string;
  r: number;
  w: number;
}

function parseMixes(v: string): Mix[] {
  const out: Mix[] = [];
  for (const it of v.split(',').map((s) => s.trim())) {
    const m = /^(\d{1,3}):(\d{1,3})$/.exec(it);
    if (!m || (Number(m[1]) === 0 && Number(m[2]) === 0))
      throw new ExperimentInputError(`--mixes: expected readers:writers such as 3:1, got '${it}'`);
    if (out.some((x) => x.name === it)) throw new ExperimentInputError(`--mixes: ${it} is repeated`);
    out.push({ name: it, r: Number(m[1]), w: Number(m[2]) });
  }
  return out;
}

/** Writers among n CPUs for the ratio r:w: at least one of each kind when both are asked for. */
export function splitCpus(n: number, mix: { r: number; w: number }): { readers: number; writers: number } {
  if (mix.w === 0) return { readers: n, writers: 0 };
  if (mix.r === 0) return { readers: 0, writers: n };
  const w = Math.min(n - 1, Math.max(1, Math.round((n * mix.w) / (mix.r + mix.w))));
  return { readers: n - w, writers: w };
}

/** Writers first, then readers, interleaved as locktorture creates its kthreads. */
function roles(readers: number, writers: number): boolean[] {
  const out: boolean[] = [];
  for (let i = 0, j = 0; i < writers || j < readers; i++, j++) {
    if (i < writers) out.push(true);
    if (j < readers) out.push(false);
  }
  return out;
}

type Part = 'mixes' | 'scaling';

interface Opts {
  eras: string[];
  mixes: Mix[];
  hold: number[];
  spin: ('on' | 'off')[];
  handoff: ('on' | 'off')[];
  parts: Part[];
}

// --- the experiment -------------------------------------------------------------------------

async function run(ctx: ExperimentContext): Promise<ExperimentOutput> {
  try {
    return await measure(ctx);
  } finally {
    // Leave the machine's rwsem switches as the eras have them, and lock_stat off, whatever happened.
    rwsem_spin_on_owner_enable(null);
    rwsem_handoff_enable(null);
    lock_stat_enable(false);
  }
}

async function measure(ctx: ExperimentContext): Promise<ExperimentOutput> {
  const o = ctx.options as unknown as Opts;
  const { machine, hostCores } = ctx;
  const samples: Sample[] = [];
  const notes: string[] = [];

  // The lock configurations of the mixes: per era, spin x handoff (handoff only where it exists).
  interface Config {
    era: string;
    rwsem: string;
    spin: boolean;
    handoff: boolean | null;
    series: string;
  }
  const configs: Config[] = [];
  for (const name of o.eras) {
    const era = eraNamed('rwsem', name);
    const handoffs: (boolean | null)[] = hasHandoff(era) ? o.handoff.map((h) => h === 'on') : [null];
    for (const handoff of handoffs)
      for (const s of o.spin) {
        const spin = s === 'on';
        const ho = handoff === null ? '' : ` handoff ${handoff ? 'on' : 'off'}`;
        configs.push({
          era: name,
          rwsem: era.rwsem.name,
          spin,
          handoff,
          series: `${name}${ho} spin ${s}`,
        });
      }
  }
  // The mixes' CPU splits: each (readers, writers) once per CPU count (at 2 CPUs 3:1 and 1:1 are both 1:1).
  interface MixRun {
    mix: string;
    cpus: number;
    readers: number;
    writers: number;
  }
  const mixRuns: MixRun[] = [];
  if (o.parts.includes('mixes'))
    for (const n of ctx.cpus) {
      if (n < 2) continue;
      for (const mix of o.mixes) {
        const { readers, writers } = splitCpus(n, mix);
        if (mixRuns.some((m) => m.cpus === n && m.readers === readers && m.writers === writers)) continue;
        mixRuns.push({ mix: mix.name, cpus: n, readers, writers });
      }
    }
  const scalingCpus = o.parts.includes('scaling') ? [...new Set([1, ...ctx.cpus])].sort((a, b) => a - b) : [];
  const scalingEra = o.eras[o.eras.length - 1]!;
  const scalingKinds: { program: Program; series: string }[] = [
    { program: 'rwsem-readers', series: 'rwsem readers (shared count)' },
    { program: 'seqcount-readers', series: 'seqcount readers' },
  ];
  const perRound = configs.length * mixRuns.length * o.hold.length + scalingCpus.length * scalingKinds.length;
  const total = perRound * ctx.rounds;
  let done = 0;
  const step = (label: string) => ctx.progress(done, total, label);

  // Warm-up, not counted: TurboFan compiles the CPU loops and the lock paths once per program
  // and era (a sample's first milliseconds would otherwise run them unoptimized).
  const warmMs = Math.min(250, Math.max(50, ctx.durationMs));
  const maxCpus = Math.max(...ctx.cpus, 2);
  step('warm-up');
  const warmEras = configs.filter((c, i) => configs.findIndex((x) => x.era === c.era) === i);
  for (const c of warmEras)
    if (mixRuns.length)
      await runOnce(
        machine,
        {
          program: 'mix',
          era: c.era,
          writers: roles(maxCpus - 1, 1),
          holdUs: 0,
          spin: c.spin,
          handoff: c.handoff,
        },
        warmMs,
      );
  if (scalingCpus.length)
    for (const k of scalingKinds)
      await runOnce(
        machine,
        {
          program: k.program,
          era: scalingEra,
          writers: roles(maxCpus, 0),
          holdUs: 0,
          spin: false,
          handoff: null,
        },
        warmMs,
      );

  // lock_stat from here on: the warm-up's acquisitions are not the experiment's.
  lock_stat_enable(ctx.lockStat);
  if (ctx.lockStat) lockStatClear();
  const loadStart = loadavg()[0]!;
  for (let round = 0; round < ctx.rounds; round++) {
    // Scaling first in each round, CPU counts interleaved with the kinds and in the other order
    // every other round, so that load drifts and what warm-up missed spread over all of them.
    for (const n of round % 2 ? [...scalingCpus].reverse() : scalingCpus)
      for (const k of scalingKinds) {
        step(`round ${round + 1}: ${k.series}, ${n} CPU${n > 1 ? 's' : ''}`);
        // The shape needs the CPUs on cores at once: on a loaded host a sample whose CPUs mostly
        // waited for a core is run again (up to SCALING_ATTEMPTS), and the most concurrent kept.
        const all = [...Array(n).keys()];
        let best: { r: RunResult; share: ReturnType<typeof hostShare> } | null = null;
        let attempts = 0;
        // Below MIN_RETRY_MS the 10 ms ticks of the threads' CPU time cannot tell.
        const maxAttempts = n <= hostCores && ctx.durationMs >= MIN_RETRY_MS ? SCALING_ATTEMPTS : 1;
        while (attempts < maxAttempts) {
          attempts++;
          const r = await runOnce(
            machine,
            {
              program: k.program,
              era: scalingEra,
              writers: roles(n, 0),
              holdUs: 0,
              spin: false,
              handoff: null,
            },
            ctx.durationMs,
          );
          const share = hostShare(r, all);
          if (!best || (share.coresUsed ?? 0) > (best.share.coresUsed ?? 0)) best = { r, share };
          if (share.coresUsed === null || share.coresUsed >= CONCURRENT * n) break;
        }
        const { r, share } = best!;
        const ops = rate(r, all);
        samples.push({
          group: 'scaling',
          series: k.series,
          cpus: n,
          round,
          oversubscribed: n > hostCores,
          params: { program: k.program, era: scalingEra, rwsem: eraNamed('rwsem', scalingEra).rwsem.name },
          metrics: {
            opsPerSec: Math.round(ops),
            opsPerSecPerCpu: Math.round(ops / n),
            coresUsed: share.coresUsed,
            cpuShare: share.cpuShare,
            retries: all.reduce((s, c) => s + r.res.field(c, F_RETRIES), 0),
            attempts,
          },
        });
        done++;
      }
    for (const m of mixRuns)
      for (const holdUs of o.hold)
        for (const c of configs) {
          step(`round ${round + 1}: ${c.series}, ${m.readers}R:${m.writers}W, hold ${holdUs} µs`);
          const writers = roles(m.readers, m.writers);
          const r = await runOnce(
            machine,
            { program: 'mix', era: c.era, writers, holdUs, spin: c.spin, handoff: c.handoff },
            ctx.durationMs,
          );
          const wCpus = writers.flatMap((w, i) => (w ? [i] : []));
          const rCpus = writers.flatMap((w, i) => (w ? [] : [i]));
          const hw = mergedHistogram(r.res, wCpus, H_WRITE);
          const hr = mergedHistogram(r.res, rCpus, H_READ);
          const reads = rate(r, rCpus);
          const writes = rate(r, wCpus);
          const sr = starved(r, rCpus);
          const share = hostShare(r, [...rCpus, ...wCpus]);
          const sw = starved(r, wCpus);
          samples.push({
            group: 'mix',
            series: c.series,
            cpus: m.cpus,
            round,
            oversubscribed: m.cpus > hostCores,
            params: {
              era: c.era,
              rwsem: c.rwsem,
              spin: c.spin ? 'on' : 'off',
              handoff: c.handoff === null ? 'n/a' : c.handoff ? 'on' : 'off',
              mix: m.mix,
              readers: m.readers,
              writers: m.writers,
              holdUs,
            },
            metrics: {
              opsPerSec: Math.round(reads + writes),
              readsPerSec: Math.round(reads),
              writesPerSec: Math.round(writes),
              coresUsed: share.coresUsed,
              cpuShare: share.cpuShare,
              writeShare: reads + writes > 0 ? writes / (reads + writes) : null,
              readWaitP50Ns: pct(hr, 50),
              readWaitP90Ns: pct(hr, 90),
              readWaitP99Ns: pct(hr, 99),
              readWaitMaxNs: hr ? hr.maxValue : null,
              writeWaitP50Ns: pct(hw, 50),
              writeWaitP90Ns: pct(hw, 90),
              writeWaitP99Ns: pct(hw, 99),
              writeWaitMaxNs: hw ? hw.maxValue : null,
              readMin: sr.min,
              readMax: sr.max,
              readStarved: sr.flag ? 1 : 0,
              writeMin: sw.min,
              writeMax: sw.max,
              writeStarved: sw.flag ? 1 : 0,
            },
          });
          done++;
        }
  }
  step('done');
  const loadEnd = loadavg()[0]!;
  const lockStat = ctx.lockStat ? lockStatText() : undefined;

  const tables: ResultTable[] = [];
  const figures: Figure[] = [];
  const headlines: Headline[] = [];
  const load = `1-min load ${loadStart.toFixed(2)} at start, ${loadEnd.toFixed(2)} at end on ${hostCores} cores`;
  if (scalingCpus.length)
    scalingReport(samples, scalingCpus, scalingEra, hostCores, load, tables, figures, notes, headlines);
  if (o.parts.includes('mixes') && !mixRuns.length)
    notes.push('No mixes ran: a mix needs at least 2 CPUs (a reader and a writer); give --cpus 2 or more.');
  if (mixRuns.length) mixReport(samples, configs, mixRuns, o.hold, tables, figures, notes, ctx);
  if (ctx.lockStat)
    notes.push('lock_stat was on: every lock operation also kept its statistics, so the rates are lower.');
  return { samples, tables, figures, notes, headlines, ...(lockStat ? { lockStat } : {}) };
}

export const experiment: Experiment = {
  name: 'rwsem',
  description:
    'rw_semaphore mixes (ratios, hold times, handoff, spinning, both generations) and reader scaling vs seqcount',
  defaults: { cpus: [1, 2, 4], durationMs: 200, rounds: 2 },
  options: [
    {
      flags: '--eras <list>',
      description:
        'the eras whose rw_semaphore runs (v4.14: rwsem-xadd.c; v6.1, v6.6: rwsem.c); scaling uses the last',
      parse: parseEraList,
      default: 'v4.14,v6.6',
    },
    {
      flags: '--mixes <list>',
      description: 'reader:writer ratios of the CPUs, e.g. 3:1,1:1 (at least one of each kind)',
      parse: parseMixes,
      default: '3:1,1:1',
    },
    {
      flags: '--hold <list>',
      description: 'hold times inside each section, µs (busy), e.g. 0,20',
      parse: parseIntList('--hold', 0, 100_000),
      default: '0,20',
    },
    {
      flags: '--spin <list>',
      description: 'writer optimistic spinning (CONFIG_RWSEM_SPIN_ON_OWNER): on, off or both',
      parse: parseChoices('--spin', ['off', 'on'] as const),
      default: 'off,on',
    },
    {
      flags: '--handoff <list>',
      description: 'the handoff bit of rwsem.c (v5.3+): on, off or both (rwsem-xadd.c has none)',
      parse: parseChoices('--handoff', ['on', 'off'] as const),
      default: 'on,off',
    },
    {
      flags: '--parts <list>',
      description: 'mixes, scaling or both',
      parse: parseChoices('--parts', ['mixes', 'scaling'] as const),
      default: 'mixes,scaling',
    },
  ],
  run,
};
