// The shared-VMA shape's findings (report.ts builds its tables and figures): the per-VMA eras'
// faults/s per CPU over the mmap_lock-only baseline's beside mmtests pft-threads, the closest
// published shape, and what the locks do here: every fault of every CPU takes the same VMA's lock,
// and every CPU's madvise(MADV_DONTNEED) takes mmap_lock for reading, in every era.
import { fmt, fmtNs, median, values } from '../bench_kit/stats.js';
import type { ExperimentContext, Headline } from '../experiment.js';
import type { Churn } from './shapes.js';
import { COUNTERS, churnLabel, cpusText, pctText, ratioText, type View } from './view.js';

const SHAPE = 'shared-vma';
/** CPUs that waited for a host core more than this share of the time did not run at once. */
const RUNQUEUE_LIMIT = 0.2;

/**
 * mmtests pft-threads, Punit Agrawal's reply to per-VMA locks v2 (2023-02-15), Hmean faults/s,
 * baseline -> v2, 2-socket Ice Lake: 1 thread -0.50%, 4 threads -9.51%. perf-anchors.md B4.
 */
export const PFT_1_THREAD = 1 - 0.005;
export const PFT_4_THREADS = 1 - 0.0951;
export const PFT_TEXT =
  'mmtests pft-threads (one region mapped before the threads start, each thread faulting its own piece; the mmap_lock read side is the shared point), per-VMA locks v2 against the mmap_lock baseline, 2-socket Ice Lake, Hmean faults/s: 1 thread -0.50%, 4 threads -9.51%, 48 threads +16.43%, 128 threads +21.90% (Punit Agrawal, 2023-02-15); the v6.15 refcount series against the rw_semaphore per-VMA lock: 1 thread -0.28%, 21 threads +14.77%';

/** The published pft-threads lines for the speedup figure. */
export function sharedVmaRules(): { y: number; label: string }[] {
  return [
    { y: PFT_1_THREAD, label: 'pft-threads 1 thread -0.5%' },
    { y: PFT_4_THREADS, label: 'pft-threads 4 threads -9.5%' },
  ];
}

export function sharedVmaFindings(
  v: View,
  ctx: ExperimentContext,
  notes: string[],
  headlines: Headline[],
): void {
  const { plan, baseline, perVma } = v;
  if (baseline && perVma.length) {
    for (const c of plan.churns) notes.push(ratiosNote(v, c, baseline));
    notes.push(comparisonNote(baseline));
    headlines.push(headline(v, baseline));
  }
  const quiet = plan.churns.find((c) => !c.on);
  const churnOn = plan.churns.find((c) => c.on);
  if (quiet && churnOn) notes.push(insideNote(v, quiet, churnOn));
  const counters = countersNote(v);
  if (counters) notes.push(counters);
  notes.push(
    `Shared VMA, at ${ctx.hostCores} host cores: every fault CPU's slice of the one VMA starts a PMD (4 MiB) apart, so each has PTE pages and a page-table lock of its own and the VMA (its lock, its anon_vma) is what they share.`,
  );
}

function ratiosNote(v: View, c: Churn, baseline: string): string {
  const per = v.perVma.map((e) => {
    const at = v.plan.cpus.map((n) => `${n} ${ratioText(median(v.ratios(SHAPE, c, e.name, n)))}`);
    return `${e.name} ${at.join(', ')}`;
  });
  return `Shared VMA, ${churnLabel(c)}: faults/s per CPU ÷ ${baseline}'s at ${v.plan.cpus.join(', ')} fault CPUs: ${per.join('; ')}. Published: ${PFT_TEXT}.`;
}

function comparisonNote(baseline: string): string {
  return `Shared VMA against the published figures: pft-threads maps its region once and times one pass of faults; here each CPU repeats the pass, dropping its pages with madvise(MADV_DONTNEED) (mmap_lock for reading in every era here; later kernels, 2025, take only the VMA lock for it), and that time is in faults/s. will-it-scale page_fault2/page_fault3 are not this shape: each task maps a file region of its own (MAP_PRIVATE with COW, MAP_SHARED), so in thread mode their faults share the mm but not a VMA; the LKP +122% is page_fault3's. Without a writer ${baseline}'s faults and madvise all take mmap_lock for reading: readers only, so the per-VMA lock has no waiting to remove, and it swaps one shared reader count (mmap_lock's) for another (the one VMA's vm_lock or vm_refcnt) plus its lookup: pft-threads' -0.5 to -9.5% at 1 to 4 threads is the kernel's price of that; its gains come at 48 threads and more. With a writer, ${baseline}'s faults wait for it inside the fault, the per-VMA eras' do not (their madvise still does).`;
}

function insideNote(v: View, quiet: Churn, churnOn: Churn): string {
  const n = v.plan.cpus[0]!;
  const per = v.plan.eras.map((e) => {
    const q = median(values(v.at(SHAPE, quiet, e.name, n), 'meanNs'));
    const w = median(values(v.at(SHAPE, churnOn, e.name, n), 'meanNs'));
    const p50 = fmtNs(median(values(v.at(SHAPE, quiet, e.name, n), 'p50Ns')));
    const d = q && w ? ` (${w >= q ? '+' : ''}${Math.round((w / q - 1) * 100)}%)` : '';
    return `${e.name} ${fmtNs(q)} -> ${fmtNs(w)}${d}, p50 alone ${p50}`;
  });
  return `Shared VMA, mean time inside __do_page_fault() at ${cpusText(n)}, no writer -> ${churnLabel(churnOn)}: ${per.join('; ')}. The mean includes any time the host took the CPU away inside a fault.`;
}

function countersNote(v: View): string | null {
  const per = v.perVma.flatMap((e) => {
    const s = v.ofShape(SHAPE, e.name);
    const sumOf = (k: string) => values(s, k).reduce((a, b) => a + b, 0);
    const tries = COUNTERS.reduce((a, k) => a + sumOf(k), 0);
    if (!tries) return [];
    const share = COUNTERS.map((k) => `${k.replace('VMA_LOCK_', '')} ${sumOf(k)}`);
    return [
      `${e.name} ${pctText(sumOf('VMA_LOCK_SUCCESS') / tries)} under the VMA lock (${share.join(', ')})`,
    ];
  });
  if (!per.length) return null;
  return `Shared VMA, VMA_LOCK_* over all its samples: ${per.join('; ')}. Only the VMA's first fault of a sample has no anon_vma yet (madvise keeps it): rfc-2022-09 to v6.6 abort that one to the mmap_lock path, v6.15 makes it under the VMA lock when mmap_read_trylock() succeeds, else RETRY; a RETRY or ABORT beyond that is a fault that met the VMA write-locked or detached.`;
}

/** At 1 fault CPU (else the fewest), no writer where measured: the per-VMA lock's own cost. */
function headline(v: View, baseline: string): Headline {
  const { plan, perVma } = v;
  const n = plan.cpus.includes(1) ? 1 : plan.cpus[0]!;
  const c = plan.churns.find((x) => !x.on) ?? plan.churns[0]!;
  const ratioOf = (era: string) => median(v.ratios(SHAPE, c, era, n)) ?? 0;
  const best = Math.max(...perVma.map((e) => ratioOf(e.name)));
  const bestEra = perVma.find((e) => ratioOf(e.name) === best)?.name ?? '?';
  const s = v.at(SHAPE, c, baseline, n);
  const rq = median(values(s, 'runqueueWait'));
  const why =
    rq !== null && rq > RUNQUEUE_LIMIT
      ? `the host kept the fault CPU${n > 1 ? 's' : ''} waiting for a core ${pctText(rq)} of the time (cores used in ${baseline}: ${fmt(median(values(s, 'coresUsed')), 2)}; ${plan.load})`
      : null;
  return {
    figure: `fault-scaling: shared VMA, faults/s per CPU, ${bestEra} (best per-VMA era), ${cpusText(n)}, ${churnLabel(c)}`,
    ratio: why ? null : best,
    baseline,
    published: `${fmt(PFT_1_THREAD, 3)}x at 1 thread (pft-threads -0.5%)`,
    ...(why ? { why } : {}),
  };
}
