// The rwsem experiment's tables, figures and findings (src/experiments/bench/rwsem.ts runs it):
// medians over rounds, ratios to 1 CPU taken within a round, the published figures beside them,
// and why a shape does not reappear when the host did not run the CPUs at once.
import { fmt, fmtNs, maxOf, median, minOf, values } from '../bench_kit/stats.js';
import type { Cell, ExperimentContext, Figure, Headline, ResultTable, Sample } from '../experiment.js';

// Published figures (perf-anchors.md): reader throughput at n CPUs / 1 CPU. The calibration figures
// are the project's own (research/calib, a 2-vCPU KVM guest, Intel Xeon), same algorithm in C and JS.
/** Waiman Long, down_read_trylock() rate, x86-64 after the patch: 1 thread 14,716; 2: 8,453; 4: 6,983. */
export const PUBLISHED_RWSEM: Record<number, string> = {
  2: '0.57x (kernel, Waiman Long 2019; calibration in C: 0.47x)',
  4: '0.47x (kernel, Waiman Long 2019)',
};
export const PUBLISHED_SEQCOUNT: Record<number, string> = {
  2: '> 1.5x (calibration: C 1.76x, JS 1.94x)',
};
export const KERNEL_RWSEM_2 = 0.57;
/** Scaling samples are run again (at most this many times) until their CPUs ran on cores at once... */
export const SCALING_ATTEMPTS = 3;
/** ...for this share of the time at least (cores used >= CONCURRENT x CPUs). */
export const CONCURRENT = 0.8;
/** Samples shorter than this are not run again: the threads' CPU time comes in 10 ms ticks. */
export const MIN_RETRY_MS = 100;
export const SEQCOUNT_2_MIN = 1.5;

export function scalingReport(
  samples: Sample[],
  cpus: number[],
  era: string,
  hostCores: number,
  load: string,
  tables: ResultTable[],
  figures: Figure[],
  notes: string[],
  headlines: Headline[] = [],
): void {
  const sc = samples.filter((s) => s.group === 'scaling');
  const rows: Cell[][] = [];
  const data: Figure['data'] = [];
  const at2 = new Map<string, { ratio: number | null; cores: number | null }>();
  const rounds = [...new Set(sc.map((s) => s.round))];
  for (const series of [...new Set(sc.map((s) => s.series))]) {
    for (const n of cpus) {
      const at = sc.filter((s) => s.series === series && s.cpus === n);
      // The ratio to 1 CPU within each round (the same load), then the median over the rounds.
      const ratios = rounds.flatMap((r) => {
        const one = sc.find((s) => s.series === series && s.cpus === 1 && s.round === r)?.metrics.opsPerSec;
        const here = at.find((s) => s.round === r)?.metrics.opsPerSec;
        return one && here !== null && here !== undefined ? [here / one] : [];
      });
      const ops = median(values(at, 'opsPerSec'));
      const ratio = median(ratios);
      const cores = median(values(at, 'coresUsed'));
      if (n === 2) at2.set(series, { ratio, cores });
      const published = series.startsWith('rwsem') ? PUBLISHED_RWSEM[n] : PUBLISHED_SEQCOUNT[n];
      rows.push([
        series,
        n,
        fmt(ops),
        fmt(ops === null ? null : ops / n),
        n === 1 ? '1' : `${fmt(ratio, 2)}x [${fmt(minOf(ratios), 2)}-${fmt(maxOf(ratios), 2)}]`,
        fmt(cores, 2),
        n === 1 ? '' : (published ?? '-'),
      ]);
      data.push({ series, cpus: n, ratio, opsPerSec: ops, coresUsed: cores });
    }
  }
  tables.push({
    id: 'scaling',
    title: `Reader scaling: aggregate reads/s at n CPUs relative to 1 CPU (${era}'s rw_semaphore; median [min-max] of the rounds' ratios)`,
    columns: ['readers', 'CPUs', 'reads/s', 'per CPU', 'vs 1 CPU', 'cores used', 'published'],
    rows,
    cpuColumn: 1,
    notes: [
      'rwsem readers: down_read + up_read, nothing inside: every section is two atomic adds on the one count word.',
      'seqcount readers: read_seqcount_begin, two loads, read_seqcount_retry: nothing shared is written.',
      "cores used: the CPUs' thread CPU time over the wall time (/proc/thread-self/stat, 10 ms ticks): n CPUs that each had a core all along use n.",
      `A sample within the host's cores whose CPUs used less than ${CONCURRENT} x n cores is run again, up to ${SCALING_ATTEMPTS} times (samples of ${MIN_RETRY_MS} ms or more); the most concurrent attempt counts.`,
      load,
    ],
  });
  figures.push({
    id: 'scaling',
    title: `Reader scaling vs 1 CPU (${era}); host ${hostCores} cores`,
    data,
    x: { field: 'cpus', title: 'reader CPUs', type: 'quantitative' },
    y: { field: 'ratio', title: 'reads/s relative to 1 CPU' },
    series: { field: 'series', title: 'readers' },
    mark: 'line',
    cpuAxis: true,
    rules: [
      { y: KERNEL_RWSEM_2, label: 'kernel rwsem, 2 vs 1: 0.57x' },
      { y: SEQCOUNT_2_MIN, label: 'seqcount, 2 vs 1: > 1.5x' },
    ],
  });
  // The shapes at 2 CPUs, beside the published ones, and why not where they do not reappear.
  const rw = at2.get('rwsem readers (shared count)');
  const sq = at2.get('seqcount readers');
  // Whether the two CPUs ran at once: else the ratio compares time slicing, not the lock.
  const apart = (cores: number | null): string | null =>
    hostCores < 2
      ? `this host has ${hostCores} core: two CPUs can only take turns`
      : cores !== null && cores < CONCURRENT * 2
        ? `not measured: the host ran the two CPUs on ${fmt(cores, 2)} cores on average (${load}), so they mostly took turns and the ratio compares time slicing, not the lock`
        : null;
  for (const [series, m, published] of [
    ['rwsem readers (shared count)', rw, `${KERNEL_RWSEM_2}x (Waiman Long)`],
    ['seqcount readers', sq, `> ${SEQCOUNT_2_MIN}x`],
  ] as const) {
    if (!m) continue;
    const no = apart(m.cores);
    headlines.push({
      figure: `rwsem: ${series}, 2 CPUs`,
      ratio: no ? null : m.ratio,
      baseline: '1 CPU',
      published,
      ...(no ? { why: no } : {}),
    });
  }
  if (rw?.ratio !== null && rw?.ratio !== undefined) {
    const no = apart(rw.cores);
    notes.push(
      `Shared-count rwsem readers, 2 CPUs vs 1: ${fmt(rw.ratio, 2)}x here; kernel ${KERNEL_RWSEM_2}x (Waiman Long): ` +
        (no
          ? `${no}.`
          : rw.ratio < 1
            ? `the anti-scaling reappears (the count word bounces between the cores; cores used ${fmt(rw.cores, 2)}).`
            : `it does not reappear although both CPUs ran (cores used ${fmt(rw.cores, 2)}; ${load}).`),
    );
  }
  if (sq?.ratio !== null && sq?.ratio !== undefined) {
    const no = apart(sq.cores);
    notes.push(
      `Seqcount readers, 2 CPUs vs 1: ${fmt(sq.ratio, 2)}x here; expected > ${SEQCOUNT_2_MIN}x: ` +
        (no
          ? `${no}.`
          : sq.ratio > SEQCOUNT_2_MIN
            ? `they scale (nothing shared is written; cores used ${fmt(sq.cores, 2)}).`
            : `short of it although both CPUs ran (cores used ${fmt(sq.cores, 2)}; ${load}).`),
    );
  }
  if (cpus.some((n) => n > hostCores))
    notes.push(
      `At more CPUs than the host's ${hostCores} cores the CPUs take turns on the cores (oversubscribed): aggregate throughput there measures time slicing, not the lock.`,
    );
}

export function mixReport(
  samples: Sample[],
  configs: { series: string }[],
  mixRuns: { mix: string; cpus: number; readers: number; writers: number }[],
  holds: number[],
  tables: ResultTable[],
  figures: Figure[],
  notes: string[],
  ctx: ExperimentContext,
): void {
  const mx = samples.filter((s) => s.group === 'mix');
  const rows: Cell[][] = [];
  const data: Figure['data'] = [];
  for (const m of mixRuns)
    for (const holdUs of holds)
      for (const c of configs) {
        const at = mx.filter(
          (s) =>
            s.series === c.series &&
            s.cpus === m.cpus &&
            s.params.readers === m.readers &&
            s.params.writers === m.writers &&
            s.params.holdUs === holdUs,
        );
        if (!at.length) continue;
        const med = (k: string) => median(values(at, k));
        const starvedR = at.filter((s) => s.metrics.readStarved === 1).length;
        const starvedW = at.filter((s) => s.metrics.writeStarved === 1).length;
        const flag = [
          starvedR ? `R ${starvedR}/${at.length}` : '',
          starvedW ? `W ${starvedW}/${at.length}` : '',
        ]
          .filter(Boolean)
          .join(' ');
        const share = med('writeShare');
        rows.push([
          c.series,
          `${m.readers}:${m.writers}`,
          m.cpus,
          holdUs,
          fmt(med('opsPerSec')),
          fmt(share === null ? null : share * 100, 2),
          fmtNs(med('readWaitP50Ns')),
          fmtNs(med('readWaitP99Ns')),
          fmtNs(med('writeWaitP50Ns')),
          fmtNs(med('writeWaitP99Ns')),
          fmtNs(maxOf(values(at, 'writeWaitMaxNs'))),
          flag || '-',
          fmt(med('coresUsed'), 2),
        ]);
        const over = m.cpus > ctx.hostCores ? ', oversubscribed' : '';
        const us = (k: string) => {
          const v = med(k);
          return v === null ? null : v / 1000;
        };
        data.push({
          series: c.series,
          panel: `${m.readers}R:${m.writers}W on ${m.cpus} CPUs${over}, hold ${holdUs} µs`,
          opsPerSec: med('opsPerSec'),
          writeWaitP99Us: us('writeWaitP99Ns'),
          readWaitP99Us: us('readWaitP99Ns'),
        });
      }
  tables.push({
    id: 'mixes',
    title: `Reader/writer mixes on one rw_semaphore (median of ${ctx.rounds} round${ctx.rounds > 1 ? 's' : ''} of ${ctx.durationMs} ms; waits: HdrHistogram of every acquisition)`,
    columns: [
      'rwsem',
      'R:W CPUs',
      'CPUs',
      'hold µs',
      'ops/s',
      'writes %',
      'read p50',
      'read p99',
      'write p50',
      'write p99',
      'write max',
      'starved',
      'cores used',
    ],
    rows,
    cpuColumn: 2,
    notes: [
      "starved: locktorture's ??? (among the CPUs of one kind, max / 2 > min acquisitions), R readers / W writers, in how many rounds.",
      'Waits include reading the clock (about 0.1 µs); a write max near the run length is a writer that waited out the readers.',
    ],
  });
  // One panel per (mix, CPUs, hold), one bar per lock configuration.
  const bars = (id: string, title: string, field: string, yTitle: string, log: boolean): Figure => ({
    id,
    title: `${title} (host ${ctx.hostCores} cores)`,
    data: data.filter((d) => d[field] !== null),
    x: { field: 'series', title: 'rw_semaphore', type: 'nominal' },
    y: { field, title: yTitle, log },
    series: { field: 'series', title: 'rw_semaphore' },
    mark: 'bar',
    column: { field: 'panel', title: 'readers:writers, CPUs, hold' },
  });
  figures.push(
    bars('mix-throughput', 'rw_semaphore mixes: throughput', 'opsPerSec', 'acquisitions/s', false),
  );
  figures.push(
    bars(
      'mix-write-wait',
      'rw_semaphore mixes: writer wait p99',
      'writeWaitP99Us',
      'writer wait p99 (µs)',
      true,
    ),
  );
  figures.push(
    bars(
      'mix-read-wait',
      'rw_semaphore mixes: reader wait p99',
      'readWaitP99Us',
      'reader wait p99 (µs)',
      true,
    ),
  );
  // Handoff: the writers' worst waits with and without it.
  const on = mx.filter((s) => s.params.handoff === 'on');
  const off = mx.filter((s) => s.params.handoff === 'off');
  if (on.length && off.length)
    notes.push(
      `Handoff (v5.3+): writer wait max ${fmtNs(maxOf(values(on, 'writeWaitMaxNs')))} with it, ` +
        `${fmtNs(maxOf(values(off, 'writeWaitMaxNs')))} without; median writer p99 ${fmtNs(median(values(on, 'writeWaitP99Ns')))} ` +
        `vs ${fmtNs(median(values(off, 'writeWaitP99Ns')))}. In the kernel, without it nothing stops readers from stealing the lock ahead of a waiting writer, ` +
        'and with it the first waiter gets the lock handed over after RWSEM_WAIT_TIMEOUT (4 ms); a maximum far above that here includes time the CPUs spent off a core (see cores used).',
    );
  const cores = median(values(mx, 'coresUsed'));
  if (cores !== null)
    notes.push(
      `The mixes ran their CPUs on ${fmt(cores, 2)} host cores at the median: where that is far below the CPU count, waits include time the lock holder spent off a core.`,
    );
}
