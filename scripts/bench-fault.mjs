// `npm run bench -- fault [--json]`: ns per anonymous page fault through the emulator's
// mmap_sem path, for every era profile, beside real page faults on this machine measured in the
// same run (scripts/bench-fault.c, built here with the machine's compiler).
//
// Emulated: the main thread is the boot CPU (test/helpers/boot.ts, process.ts): a fresh kernel,
// the era applied, a task with an mm and one anonymous VMA of PAGES pages as current; then one
// write fault per page through __do_page_fault() (down_read_trylock/down_read(mmap_sem),
// find_vma, handle_mm_fault, up_read), timed with process.hrtime.bigint(); then the task exits
// (mmput: exit_mmap frees every page and page table; timed as "exit ns/page"). Every repetition
// starts from kernelReset(), so the page allocator hands out the same fresh frames each time.
// Real: the C program mmaps PAGES anonymous pages with MADV_NOHUGEPAGE and writes one byte per
// 4 KiB page (ru_minflt checks that every page took one fault), then munmaps them.
// One round = one C process + one repetition set per era (the order alternates between rounds);
// each era's real/emulated ratio is taken inside a round, then its median over rounds.
// Afterwards (untimed) one more repetition per era runs with Atomics wrapped, to count the
// Atomics calls, KASAN shadow checks, region-by-name lookups and preemption points of one fault.
// Env: ROUNDS (default 5), REPS (timed repetitions per round and era, default 5), PAGES (default
// 16384 = 64 MiB real, 32 MiB of arena frames), KASAN_INSTRUMENT=0 (lock and atomic words not
// KASAN-checked; default: checked, as campaigns run).
//
// Second part (issue "per-VMA locks"): faults per second on real worker threads (free mode,
// runVariant on the shared machine, scripts/bench-fault-churn.mjs), for the mmap_lock path (v6.1)
// and every era with a per-VMA lock generation: one CPU faulting alone, and the same CPU beside a
// second CPU of the same mm that takes mmap_lock for writing again and again (mprotect split and
// merge, munmap and mmap of a hole) on an unrelated VMA. The faulter write-faults a region of
// CHURN_PAGES pages pass after pass, munmap()ing and mmap()ing it again between passes and
// faulting its first page (untimed: that fault gives the fresh VMA its anon_vma, through the
// mmap_lock path up to v6.6); a pass is the other CHURN_PAGES - 1 faults, timed and counted:
// faults/s = faults / time inside the passes, VMA_LOCK_* counters read around the passes. Per
// era: median [min–max] over rounds (the era order rotated and the alone/writer order swapped from
// round to round), the ratio with/alone and the ratio to v6.1 with a writer (both taken per round),
// the writer's loops/s, and the VMA_LOCK_* counters summed over the timed runs with the writer.
// A second table separates the host's part (on a shared machine the figures above are mostly
// about who got a core): from /proc/thread-self/schedstat, the share of the faulter's pass time
// spent runnable on the host's run queue (read around each pass), the same for the writer's loop,
// and faults/s with the writer over the pass time less that share.
// The writer waits in rcu_barrier() whenever more than CHURN_BACKLOG call_rcu() callbacks are queued
// (VMAs freed through RCU; the emulated VMA cache holds 128, and without the wait half its mmaps
// fail in the per-VMA lock eras): the writer's loops/s and waits are printed beside the figures.
// Env: CHURN_MS (ms of faulting per run, default 300), CHURN_ROUNDS (default 5), CHURN_PAGES
// (default 256), CHURN_BACKLOG (default 32; 0: never wait), CHURN=0 (skip this part).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  __do_page_fault,
  applyEra,
  cpuCtx,
  DEFAULT_PAGES,
  ERAS,
  FAULT_FLAG_WRITE,
  get_mm_counter,
  kasan_instrument_atomics,
  kernelReset,
  kwrite,
  logRead,
  Machine,
  MM_ANONPAGES,
  machineRegions,
  mem,
  mm_alloc,
  mmap_anon_fixed,
  mmput,
  nr_free_pages,
  runVariant,
  sharedMachine,
  shutdownMachine,
  spawnTask,
  TASK,
  VM_MAYREAD,
  VM_MAYWRITE,
  VM_READ,
  VM_WRITE,
} from '../dist/src/index.js';
import { mmap_write_lock, mmap_write_unlock } from '../dist/src/mm/mmap_lock.js';
import { zero as zeroChurnTotals } from './bench-fault-churn.mjs';
import { summaryRow, times } from './bench-summary.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Where the VMA starts: page-table aligned, far from 0 and below TASK_SIZE (0xc0000000). */
export const BASE = 0x10000000;
export const PAGE_SZ = 4096;
/** The goal: the emulated fault at least this many times faster than the real one. */
export const GOAL = 5;
const RW = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE;
const REPORT = /^(BUG: |WARNING: |kernel BUG|Oops|general protection fault|INFO: task)/m;

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const summary = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), rounds: xs });
const stat = (s) => (s ? `${fmt(s.median)} [${fmt(s.min)}–${fmt(s.max)}]` : '—');

// ---- C side ----

/** Compiles bench-fault.c with $CC, cc, gcc or clang; null when none works. */
export function buildC() {
  const src = path.join(here, 'bench-fault.c');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mmrace-bench-fault-'));
  const exe = path.join(dir, 'bench-fault');
  for (const cc of [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean)) {
    try {
      execFileSync(cc, ['-O2', '-o', exe, src], { stdio: ['ignore', 'ignore', 'pipe'] });
      let version = cc;
      try {
        version = execFileSync(cc, ['--version'], { encoding: 'utf8' }).split('\n')[0];
      } catch {}
      return { exe, dir, version };
    } catch (e) {
      if (e.code !== 'ENOENT') {
        console.error(
          `bench fault: ${cc} failed on bench-fault.c: ${
            String(e.stderr ?? e)
              .trim()
              .split('\n')[0]
          }`,
        );
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
  return null;
}

/** One C process: `reps` timed repetitions of PAGES first touches (after `warm` untimed ones). */
export function runC(c, pages, reps, warm = 1) {
  const out = execFileSync(c.exe, [String(pages), String(reps), String(warm)], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return JSON.parse(out);
}

// ---- emulated side ----

/** A machine on this thread whose page allocator holds `pages` user pages and their page tables. */
export function bootMachine(pages) {
  const tables = Math.ceil(pages / 512) + 4; // one PTE page per 2 MiB, PMD pages, the pgd
  const machine = new Machine(machineRegions(pages + tables + 64));
  machine.attach();
  return machine;
}

/**
 * One repetition on the boot CPU: fresh kernel, `era`, a task whose mm has one anonymous VMA of
 * `pages` pages; fault every page (timed), then exit (timed). Throws if a fault failed, the rss
 * is not `pages`, exit left a page allocated, or the kernel logged a report.
 */
export function emulatedRepeat(era, pages, { kasanAtomics = true, onFaults } = {}) {
  kernelReset();
  applyEra(era);
  kasan_instrument_atomics(kasanAtomics);
  cpuCtx.current = 0;
  cpuCtx.preemptCount = 0;
  const free0 = nr_free_pages();
  const mm = mm_alloc();
  if (!mm) throw new Error('bench fault: mm_alloc failed');
  const task = spawnTask('bench-fault', { mm });
  cpuCtx.current = task;
  // mmap_write_unlock(), not a bare up_write(): in the per-VMA lock eras it ends the VMAs' write
  // locks (vma_end_write_all()), as munmap/mmap do, so the faults take the per-VMA path as a
  // process's would (with up_write() every one aborted it and fell back to mmap_lock).
  mmap_write_lock(mm);
  const vma = mmap_anon_fixed(mm, BASE, pages * PAGE_SZ, RW);
  mmap_write_unlock(mm);
  if (!vma) throw new Error('bench fault: mmap_anon_fixed failed');

  onFaults?.(true);
  let fault = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0, addr = BASE; i < pages; i++, addr += PAGE_SZ)
    fault |= __do_page_fault(mm, addr, FAULT_FLAG_WRITE);
  const t1 = process.hrtime.bigint();
  onFaults?.(false);

  const rss = get_mm_counter(mm, MM_ANONPAGES);
  // The task exits (test/helpers/process.ts exitAll): current->mm goes, the last mmput().
  kwrite(task + TASK.mm, 0);
  kwrite(task + TASK.active_mm, 0);
  mmput(mm);
  const t2 = process.hrtime.bigint();
  cpuCtx.current = 0;

  const leaked = free0 - nr_free_pages();
  const reports = logRead()
    .records.map((r) => r.text)
    .filter((t) => REPORT.test(t));
  if (fault !== 0 || rss !== pages || leaked !== 0 || reports.length) {
    throw new Error(
      `bench fault (${era.name}): fault results OR'd 0x${fault.toString(16)}, rss ${rss} of ${pages} pages, ` +
        `${leaked} pages not freed after exit${reports.length ? `; kernel log:\n${reports.join('\n')}` : ''}`,
    );
  }
  return { ns: Number(t1 - t0) / pages, exitNs: Number(t2 - t1) / pages };
}

const ATOMICS_OPS = ['load', 'store', 'add', 'sub', 'and', 'or', 'xor', 'exchange', 'compareExchange'];
const KASAN_FNS = new Set([
  'checkAccess',
  'checkAccessSlow',
  'slabCheck',
  'framesCheck',
  'kasan_check_atomic',
  'check',
]);

/**
 * Counts, in one untimed repetition of `pages` faults, the Atomics calls per fault (by op and by
 * the function that made them) and the KASAN shadow lookups (arena.regionOf: one per checked
 * access that missed kasan.ts's check cache) and region-by-name lookups (arena.region). Wraps Atomics and the arena's methods only
 * while the faults run, and restores them.
 */
export function countPerFault(era, pages, opts = {}) {
  const byOp = Object.fromEntries(ATOMICS_OPS.map((k) => [k, 0]));
  const byCaller = new Map();
  const regionCallers = new Map();
  let regionOf = 0;
  let region = 0;
  let on = false;
  const saved = Object.fromEntries(ATOMICS_OPS.map((k) => [k, Atomics[k]]));
  const arena = mem.arena;
  const origRegionOf = arena.regionOf;
  const origRegion = arena.region;
  const limit = Error.stackTraceLimit;
  // The function that called the wrapper (stack line 0 is "Error", 1 the wrapper itself).
  const caller = () => {
    Error.stackTraceLimit = 3;
    const frame = new Error().stack.split('\n')[3] ?? '';
    Error.stackTraceLimit = limit;
    return /at (?:[\w.]+\.)?([\w$]+) /.exec(frame)?.[1] ?? '?';
  };
  const bump = (m, k) => m.set(k, (m.get(k) ?? 0) + 1);
  const wrap =
    (k) =>
    (...args) => {
      if (on) {
        byOp[k]++;
        bump(byCaller, caller());
      }
      return saved[k].apply(Atomics, args);
    };
  for (const k of ATOMICS_OPS) Atomics[k] = wrap(k);
  // Preemption points: empty on this boot CPU, one Atomics.load each on a campaign CPU.
  let points = 0;
  const runner = cpuCtx.runner;
  const origPoint = runner.point;
  const ownPoint = Object.hasOwn(runner, 'point');
  runner.point = function (id) {
    if (on) points++;
    return origPoint.call(this, id);
  };
  arena.regionOf = function (addr) {
    if (on) regionOf++;
    return origRegionOf.call(this, addr);
  };
  arena.region = function (name) {
    if (on) {
      region++;
      bump(regionCallers, caller());
    }
    return origRegion.call(this, name);
  };
  try {
    emulatedRepeat(era, pages, {
      ...opts,
      onFaults: (x) => {
        on = x;
      },
    });
  } finally {
    for (const k of ATOMICS_OPS) Atomics[k] = saved[k];
    if (ownPoint) runner.point = origPoint;
    else delete runner.point;
    delete arena.regionOf;
    delete arena.region;
  }
  const per = (n) => n / pages;
  const total = Object.values(byOp).reduce((a, b) => a + b, 0);
  const callers = [...byCaller]
    .sort((a, b) => b[1] - a[1])
    .map(([fn, n]) => ({ fn, perFault: per(n), kasan: KASAN_FNS.has(fn) }));
  const regionCallersPer = [...regionCallers]
    .sort((a, b) => b[1] - a[1])
    .map(([fn, n]) => ({ fn, perFault: per(n) }));
  return {
    atomics: per(total),
    byOp: Object.fromEntries(
      Object.entries(byOp)
        .filter(([, n]) => n)
        .map(([k, n]) => [k, per(n)]),
    ),
    callers,
    kasanAtomics: per(callers.filter((c) => c.kasan).reduce((a, c) => a + c.perFault * pages, 0)),
    kasanChecks: per(regionOf),
    regionLookups: per(region),
    regionCallers: regionCallersPer,
    points: per(points),
  };
}

// ---- faults/s on worker threads, alone and beside an mmap_lock writer ----

const CHURN_URL = new URL('./bench-fault-churn.mjs', import.meta.url).href;
const COUNTERS = ['VMA_LOCK_SUCCESS', 'VMA_LOCK_ABORT', 'VMA_LOCK_RETRY', 'VMA_LOCK_MISS'];
const fps = (t) => (t.us > 0 ? t.faults / (t.us / 1e6) : 0);
/** The share of `us` spent waiting on the host's run queue; null without schedstat. */
const waitShare = (rq, us) => (rq < 0 || us <= 0 ? null : Math.min(1, rq / us));
/**
 * Faults/s over the passes' time less the share of it the faulter waited on the host's run queue
 * (read around each pass: `rqus` of `brus`); null without schedstat or when it never ran.
 */
const fpsOwnCore = (t) => {
  const w = waitShare(t.rqus, t.brus);
  return w === null || w >= 1 || t.us <= 0 ? null : t.faults / ((t.us * (1 - w)) / 1e6);
};
/** summary() of the values, null if any is null. */
const summaryOrNull = (xs) => (xs.length && xs.every((x) => x !== null) ? summary(xs) : null);
const sumRuns = (ts) => {
  const o = zeroChurnTotals();
  for (const t of ts) for (const k of Object.keys(o)) o[k] = o[k] < 0 || t[k] < 0 ? -1 : o[k] + t[k];
  return o;
};

/**
 * Free-mode runs of scripts/bench-fault-churn.mjs on the shared machine (its CPU workers), for the
 * mmap_lock path (v6.1) and every era with a per-VMA lock generation: `rounds` runs of `ms` ms of
 * faulting per era, alone and with the writer, after one warm-up run of each of `warmMs`. Throws
 * when a run crashed, hung, logged a kernel report or saw a failed fault. Shuts the shared machine
 * down at the end.
 */
export async function churnBench({
  ms = 300,
  rounds = 5,
  pages = 256,
  warmMs = Math.min(150, ms),
  backlog = 32,
} = {}) {
  const fx = await import(CHURN_URL);
  const s = fx.scenario;
  const eras = fx.CHURN_ERAS;
  const load0 = os.loadavg();
  const t0 = performance.now();
  const machine = sharedMachine(Math.max(DEFAULT_PAGES, 2 * pages + 256));
  const runs = new Map(eras.map((e) => [e.name, { alone: [], writer: [] }]));
  const one = async (era, kind, runMs, seed) => {
    fx.setChurnParams({ ms: runMs, pages, backlog });
    const v = s.variants.find((x) => x.name === `${era.name}/${kind}`);
    fx.takeChurnTotals();
    const r = await runVariant(machine, s, v, { runs: 1, seed }, CHURN_URL);
    const t = fx.takeChurnTotals();
    if (r.observed !== 'clean' || t.runs !== 1 || t.faults <= 0) {
      const why =
        r.crash?.message ??
        r.hang ??
        r.stopped ??
        r.userError ??
        r.firstCheckFailure?.detail ??
        r.firstHit?.summary ??
        `${t.runs} runs checked, ${t.faults} faults`;
      throw new Error(`bench fault (${v.name}, free mode): ${why}`);
    }
    return t;
  };
  try {
    for (const e of eras) for (const k of ['alone', 'writer']) await one(e, k, warmMs, 0);
    for (let r = 0; r < rounds; r++) {
      for (let j = 0; j < eras.length; j++) {
        const e = eras[(j + r) % eras.length];
        for (const k of r % 2 ? ['writer', 'alone'] : ['alone', 'writer'])
          runs.get(e.name)[k].push(await one(e, k, ms, r + 1));
      }
    }
  } finally {
    await shutdownMachine();
  }
  const base = runs.get(fx.BASELINE_ERA);
  const rows = eras.map((e) => {
    const x = runs.get(e.name);
    const generation = fx.generationOf(e);
    return {
      era: e.name,
      release: e.release,
      generation,
      path: generation === 'none' ? 'mmap_lock' : 'per-VMA lock',
      faultsPerSec: { alone: summary(x.alone.map(fps)), writer: summary(x.writer.map(fps)) },
      ratioWriterAlone: summary(x.writer.map((t, i) => fps(t) / fps(x.alone[i]))),
      ratioVsMmapLockWriter: base ? summary(x.writer.map((t, i) => fps(t) / fps(base.writer[i]))) : null,
      writerLoopsPerSec: summary(x.writer.map((t) => (t.wus > 0 ? t.loops / (t.wus / 1e6) : 0))),
      // The host's share: the faulter's run-queue wait inside its passes, the writer's in its loop.
      hostWait: {
        alone: summaryOrNull(x.alone.map((t) => waitShare(t.rqus, t.brus))),
        writer: summaryOrNull(x.writer.map((t) => waitShare(t.rqus, t.brus))),
        writerThread: summaryOrNull(x.writer.map((t) => waitShare(t.wrqus, t.wus))),
      },
      writerOwnCore: summaryOrNull(x.writer.map(fpsOwnCore)),
      ratioVsMmapLockWriterOwnCore: base
        ? summaryOrNull(
            x.writer.map((t, i) => {
              const a = fpsOwnCore(t);
              const b = fpsOwnCore(base.writer[i]);
              return a === null || b === null ? null : a / b;
            }),
          )
        : null,
      alone: sumRuns(x.alone),
      writer: sumRuns(x.writer),
    };
  });
  return {
    baseline: fx.BASELINE_ERA,
    ms,
    rounds,
    pages,
    warmMs,
    backlog,
    cores: os.cpus().length,
    load: { start: load0, end: os.loadavg() },
    seconds: (performance.now() - t0) / 1000,
    rows,
  };
}

const kfmt = (x) =>
  x >= 1e4 ? `${(x / 1000).toFixed(0)}k` : x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0);
const kstat = (s) => (s ? `${kfmt(s.median)} [${kfmt(s.min)}–${kfmt(s.max)}]` : '—');
const rstat = (s) => (s ? `${s.median.toFixed(2)} [${s.min.toFixed(2)}–${s.max.toFixed(2)}]` : '—');

/** The second part's table, as printed. */
export function churnText(c) {
  const loadStr = (l) => l.map((x) => x.toFixed(2)).join(' ');
  const out = [];
  out.push(
    `Faults/s on worker threads (free mode): one CPU write-faulting its own ${c.pages}-page anonymous region pass after pass (between passes, untimed: munmap+mmap, and the first page's fault, which gives the VMA its anon_vma; a pass is the other ${c.pages - 1} faults; faults/s = faults / time inside the passes), alone and beside a second CPU of the same mm taking mmap_lock for writing on an unrelated VMA (mprotect split+merge, munmap+mmap of a hole: 4 write sections per loop); a third CPU is rcu_sched. Median [min–max] of ${c.rounds} rounds of ${c.ms} ms per era and case (after a ${c.warmMs} ms warm-up); ratios taken per round; VMA_LOCK_* counters of the passes, summed over the runs with the writer`,
  );
  out.push(
    `machine: ${c.cores} host cores; load average ${loadStr(c.load.start)} at start, ${loadStr(c.load.end)} at end (the faulter, the writer, rcu_sched and the main thread share them)`,
  );
  const cols = [
    ['era', 13],
    ['generation', 12],
    ['path', 13],
    ['faults/s alone', 21],
    ['faults/s with writer', 21],
    ['with/alone', 18],
    [`vs ${c.baseline} w/ writer`, 18],
    ['writer loops/s', 19],
    ['SUCCESS', 9],
    ['ABORT', 7],
    ['RETRY', 7],
    ['MISS', 6],
    ['cores', 5],
  ];
  out.push(cols.map(([h, w]) => h.padEnd(w)).join(' '));
  for (const r of c.rows) {
    const cells = [
      r.era,
      r.generation,
      r.path,
      kstat(r.faultsPerSec.alone),
      kstat(r.faultsPerSec.writer),
      rstat(r.ratioWriterAlone),
      rstat(r.ratioVsMmapLockWriter),
      kstat(r.writerLoopsPerSec),
      ...COUNTERS.map((k) => String(r.writer[k])),
      String(c.cores),
    ];
    out.push(cells.map((x, i) => x.padEnd(cols[i][1])).join(' '));
  }
  const pct = (x) =>
    x ? `${(x.median * 100).toFixed(0)}% [${(x.min * 100).toFixed(0)}–${(x.max * 100).toFixed(0)}%]` : '—';
  out.push(
    "The host's part (/proc/thread-self/schedstat): the share of the faulter's pass time it waited on the host's run queue (runnable, no core; read around each pass), the writer's share of its loop time, and faults/s with the writer over the faulter's pass time less that share (as if it had a core of its own; the writer still shares, and on the mmap_lock path a writer descheduled inside its write section still blocks the faulter):",
  );
  const cols2 = [
    ['era', 13],
    ['faulter wait alone', 19],
    ['faulter wait w/ writer', 23],
    ['writer wait', 15],
    ['faults/s w/ writer, own core', 29],
    [`vs ${c.baseline} (own core)`, 18],
  ];
  out.push(cols2.map(([h, w]) => h.padEnd(w)).join(' '));
  for (const r of c.rows) {
    const cells = [
      r.era,
      pct(r.hostWait.alone),
      pct(r.hostWait.writer),
      pct(r.hostWait.writerThread),
      kstat(r.writerOwnCore),
      rstat(r.ratioVsMmapLockWriterOwnCore),
    ];
    out.push(cells.map((x, i) => x.padEnd(cols2[i][1])).join(' '));
  }
  out.push(
    `faults counted, alone / with writer: ${c.rows.map((r) => `${r.era} ${r.alone.faults} / ${r.writer.faults}`).join(', ')}`,
  );
  out.push(
    `VMA_LOCK_SUCCESS/ABORT/RETRY/MISS alone: ${c.rows.map((r) => `${r.era} ${COUNTERS.map((k) => r.alone[k]).join('/')}`).join(', ')}`,
  );
  out.push(
    `writer: loops (4 mmap_lock write sections each) / rcu_barrier() waits (more than ${c.backlog} call_rcu() callbacks queued) / failed mmaps: ${c.rows
      .map((r) => `${r.era} ${r.writer.loops}/${r.writer.barriers}/${r.writer.wfail}`)
      .join(', ')}; ${c.seconds.toFixed(1)} s`,
  );
  return out;
}

// ---- machine description ----

function cpuModel() {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim();
    const guest = /^flags\s*:.*\bhypervisor\b/m.test(info);
    if (model) return `${model}${guest ? ' (virtual machine)' : ''}`;
  } catch {}
  return os.cpus()[0]?.model ?? 'unknown CPU';
}

function thpSetting() {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] ?? '?';
  } catch {
    return 'n/a';
  }
}

// ---- driver ----

export async function run(argv = process.argv.slice(2)) {
  const json = argv.includes('--json');
  const t0 = performance.now();
  const load0 = os.loadavg();
  const int = (name, dflt, min) => Math.max(min, Math.floor(Number(process.env[name] ?? dflt)) || dflt);
  const ROUNDS = int('ROUNDS', 5, 1);
  const REPS = int('REPS', 5, 1);
  const PAGES = int('PAGES', 16384, 512);
  const kasanAtomics = process.env.KASAN_INSTRUMENT !== '0';
  const CHURN = process.env.CHURN !== '0';
  const CHURN_MS = int('CHURN_MS', 300, 20);
  const CHURN_ROUNDS = int('CHURN_ROUNDS', 5, 1);
  const CHURN_PAGES = int('CHURN_PAGES', 256, 16);
  const CHURN_BACKLOG = process.env.CHURN_BACKLOG === '0' ? 0 : int('CHURN_BACKLOG', 32, 1);
  const eras = [...ERAS];
  const log = json ? () => {} : (s) => console.log(s);

  const c = buildC();
  bootMachine(PAGES);
  const emu = new Map(eras.map((e) => [e.name, { ns: [], exitNs: [] }]));
  const real = [];
  try {
    // Warm-up: every era's path through the JIT (their rwsem functions differ) before any timing.
    for (let k = 0; k < 2; k++) for (const e of eras) emulatedRepeat(e, PAGES, { kasanAtomics });
    for (let r = 0; r < ROUNDS; r++) {
      const jsRound = () => {
        // Rotate the era order so that no era always runs first after the C process.
        for (let j = 0; j < eras.length; j++) {
          const e = eras[(j + r) % eras.length];
          const reps = Array.from({ length: REPS }, () => emulatedRepeat(e, PAGES, { kasanAtomics }));
          emu.get(e.name).ns.push(median(reps.map((x) => x.ns)));
          emu.get(e.name).exitNs.push(median(reps.map((x) => x.exitNs)));
        }
      };
      const cRound = () => {
        if (!c) return;
        const x = runC(c, PAGES, REPS);
        real.push({
          ns: median(x.ns_per_fault),
          minflt: median(x.minflt_per_page),
          munmapNs: median(x.munmap_ns_per_page),
          retouchNs: median(x.retouch_ns_per_page),
          nohugepage: x.nohugepage,
        });
      };
      if (r % 2 === 0) {
        cRound();
        jsRound();
      } else {
        jsRound();
        cRound();
      }
    }
  } finally {
    if (c) rmSync(c.dir, { recursive: true, force: true });
  }
  // Untimed: what one fault does, per era.
  // At most 1024 faults: the boot machine holds PAGES pages (PAGES=512 ran out of frames here).
  const COUNT_PAGES = Math.min(1024, PAGES);
  const counts = new Map(eras.map((e) => [e.name, countPerFault(e, COUNT_PAGES, { kasanAtomics })]));
  const load1 = os.loadavg();
  // Faults/s on worker threads, alone and beside an mmap_lock writer (the shared machine).
  const churn = CHURN
    ? await churnBench({ ms: CHURN_MS, rounds: CHURN_ROUNDS, pages: CHURN_PAGES, backlog: CHURN_BACKLOG })
    : null;

  const hasC = real.length > 0;
  const realNs = hasC ? summary(real.map((x) => x.ns)) : null;
  const rows = eras.map((e) => {
    const m = emu.get(e.name);
    const ratio = hasC ? summary(m.ns.map((x, i) => real[i].ns / x)) : null;
    return {
      era: e.name,
      release: e.release,
      emulated: summary(m.ns),
      exit: summary(m.exitNs),
      ratio,
      met: ratio ? ratio.median >= GOAL : null,
      perFault: counts.get(e.name),
    };
  });
  const machine = {
    cpu: cpuModel(),
    cpus: os.cpus().length,
    node: process.version,
    kernel: os.release(),
    cc: c?.version ?? null,
    thp: thpSetting(),
    load: { start: load0, end: load1 },
  };
  const seconds = (performance.now() - t0) / 1000;
  const byRatio = hasC ? [...rows].sort((a, b) => a.ratio.median - b.ratio.median) : [];
  const sum = hasC
    ? [
        [byRatio[0], 'slowest'],
        [byRatio.at(-1), 'fastest'],
      ].map(([r, which]) =>
        summaryRow(
          'fault',
          `anonymous fault, ${r.era} (${which} of ${rows.length} eras; ${fmt(r.emulated.median)} ns)`,
          times(r.ratio.median),
          `real fault (${fmt(realNs.median)} ns)`,
          `real ÷ emulated >= ${GOAL}x`,
          r.met,
        ),
      )
    : [summaryRow('fault', 'anonymous fault', 'no C compiler', 'real fault')];

  if (json) {
    console.log(
      JSON.stringify(
        {
          bench: 'fault',
          machine,
          pages: PAGES,
          rounds: ROUNDS,
          reps: REPS,
          kasanAtomics,
          goal: GOAL,
          real: hasC
            ? {
                nsPerFault: realNs,
                minfltPerPage: median(real.map((x) => x.minflt)),
                munmapNsPerPage: summary(real.map((x) => x.munmapNs)),
                retouchNsPerPage: summary(real.map((x) => x.retouchNs)),
                nohugepage: real.every((x) => x.nohugepage),
              }
            : null,
          skipped: hasC ? null : 'no C compiler (cc/gcc/clang): real faults not measured',
          eras: rows,
          churn: churn ?? { skipped: 'CHURN=0' },
          seconds,
        },
        null,
        1,
      ),
    );
    return sum;
  }

  const loadStr = (l) => l.map((x) => x.toFixed(2)).join(' ');
  log(
    `Anonymous page faults on one CPU: ns per fault, median [min–max] of ${ROUNDS} rounds (each the median of ${REPS} repetitions of ${PAGES} faults); ratio = real/emulated, taken per round`,
  );
  log(
    `machine: ${machine.cpu}, ${machine.cpus} CPUs, kernel ${machine.kernel}, THP ${machine.thp}; node ${machine.node}; ${
      hasC ? `${c.version} -O2` : 'no C compiler'
    }; load average ${loadStr(load0)} at start, ${loadStr(load1)} at end`,
  );
  log(
    `emulated: the boot CPU on the main thread, __do_page_fault (down_read_trylock(mmap_sem), find_vma, handle_mm_fault, up_read) with FAULT_FLAG_WRITE on one anonymous VMA; fresh kernel per repetition; lock-word KASAN ${
      kasanAtomics ? 'on (as campaigns run; KASAN_INSTRUMENT=0 turns it off)' : 'off (KASAN_INSTRUMENT=0)'
    }`,
  );
  log(
    hasC
      ? `real: scripts/bench-fault.c, mmap(MAP_PRIVATE|MAP_ANONYMOUS) + MADV_NOHUGEPAGE, one byte written per 4 KiB page; ${fmt(median(real.map((x) => x.minflt)))} faults per page (ru_minflt)${real.every((x) => x.nohugepage) ? '' : '; madvise(MADV_NOHUGEPAGE) FAILED'}`
      : 'real: SKIPPED: no C compiler (cc/gcc/clang) found, so only the emulated figures are shown.',
  );
  const flt = hasC ? median(real.map((x) => x.minflt)) : 1;
  if (flt < 0.95 || flt > 1.05)
    log(
      `WARNING: the real side took ${fmt(flt)} faults per page, not 1 (transparent huge pages or fault-around?): its ns/fault is not one 4 KiB fault`,
    );
  const eraW = Math.max(10, ...rows.map((r) => r.era.length + 1));
  const head = [
    'era'.padEnd(eraW),
    'emulated ns/fault'.padEnd(22),
    'real ns/fault'.padEnd(22),
    'ratio real/emulated'.padEnd(22),
    `goal ≥ ${GOAL}`,
  ];
  log(head.join(' '));
  for (const row of rows) {
    log(
      [
        row.era.padEnd(eraW),
        stat(row.emulated).padEnd(22),
        stat(realNs).padEnd(22),
        stat(row.ratio).padEnd(22),
        row.ratio ? (row.met ? 'MET' : `MISSED by ${fmt(GOAL / row.ratio.median)}x`) : '—',
      ].join(' '),
    );
  }
  log(
    `teardown, ns per page: emulated exit (mmput -> exit_mmap) ${rows.map((r) => `${r.era} ${stat(r.exit)}`).join(', ')}; real munmap ${
      hasC ? stat(summary(real.map((x) => x.munmapNs))) : '—'
    }; real second touch (no fault) ${hasC ? stat(summary(real.map((x) => x.retouchNs))) : '—'}`,
  );
  log(
    `per emulated fault (counted untimed, Atomics wrapped, ${COUNT_PAGES} faults; eras with the same counts share a line):`,
  );
  const groups = new Map();
  for (const row of rows) {
    const k = row.perFault;
    const ops = Object.entries(k.byOp)
      .map(([op, n]) => `${op} ${fmt(n)}`)
      .join(', ');
    const list = (xs, n) =>
      xs
        .slice(0, n)
        .map((x) => `${x.fn} ${fmt(x.perFault)}`)
        .join(', ');
    const text = `${fmt(k.atomics)} Atomics calls (${ops}), ${fmt(k.kasanAtomics)} of them inside KASAN checks; ${fmt(k.kasanChecks)} KASAN shadow lookups (check cache misses); ${fmt(k.points)} preemption points; ${fmt(k.regionLookups)} region-by-name lookups (arena.region: ${list(k.regionCallers, 4)}); Atomics by caller: ${list(k.callers, 8)}`;
    groups.set(text, [...(groups.get(text) ?? []), row.era]);
  }
  for (const [text, names] of groups) log(`  ${names.join(', ')}: ${text}`);
  if (hasC) {
    const missed = rows.filter((r) => !r.met);
    log(
      missed.length
        ? `verdict: goal (emulated fault ≥ ${GOAL}x faster than the real one) MISSED for ${missed.map((r) => r.era).join(', ')}`
        : `verdict: goal (emulated fault ≥ ${GOAL}x faster than the real one) MET for every era`,
    );
  } else log('verdict: no real baseline, no verdict.');
  log('');
  if (churn) for (const line of churnText(churn)) log(line);
  else log('faults/s on worker threads: skipped (CHURN=0)');
  log(`(${seconds.toFixed(1)} s)`);
  return sum;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await run();

// For test/bench_fault.test.ts: the era objects and arena this script runs (dist/, not src/).
export { ERAS, mem };
