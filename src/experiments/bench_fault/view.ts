// The fault-scaling samples as the report reads them: one shape x churn x era x CPU count at a
// time, the per-round ratios to the mmap_lock-only baseline, and the wording shared by the tables
// and findings of every shape.
import { fmt } from '../bench_kit/stats.js';
import type { Sample } from '../experiment.js';
import { type Churn, groupOf, type Shape } from './shapes.js';

export interface Plan {
  shapes: Shape[];
  eras: { name: string; generation: string | null }[];
  churns: Churn[];
  cpus: number[];
  pages: number;
  rcuBacklog: number;
  load: string;
}

export const COUNTERS = ['VMA_LOCK_SUCCESS', 'VMA_LOCK_ABORT', 'VMA_LOCK_RETRY', 'VMA_LOCK_MISS'] as const;

export const churnLabel = (c: Churn): string =>
  c.on ? `${c.writers} writer${c.writers > 1 ? 's' : ''} churning mmap_lock` : 'no writer';
export const pctText = (x: number | null): string => (x === null ? '-' : `${Math.round(x * 100)}%`);
export const ratioText = (x: number | null): string => (x === null ? '-' : `${fmt(x, 3)}x`);
export const cpusText = (n: number): string => `${n} fault CPU${n > 1 ? 's' : ''}`;

export interface View {
  plan: Plan;
  /** The first mmap_lock-only era, or null. */
  baseline: string | null;
  perVma: Plan['eras'];
  rounds: number[];
  at(shape: Shape, c: Churn, era: string, n: number): Sample[];
  /** Per round: the era's faults/s per CPU over the baseline's at the same setting. */
  ratios(shape: Shape, c: Churn, era: string, n: number): number[];
  /** Every sample of the shape and era (all churn settings, all CPU counts). */
  ofShape(shape: Shape, era: string): Sample[];
}

export function viewOf(samples: Sample[], plan: Plan): View {
  const baseline = plan.eras.find((e) => e.generation === null)?.name ?? null;
  const rounds = [...new Set(samples.map((s) => s.round))];
  const at = (shape: Shape, c: Churn, era: string, n: number) =>
    samples.filter((s) => s.group === groupOf(shape, c) && s.series === era && s.cpus === n);
  const ratios = (shape: Shape, c: Churn, era: string, n: number): number[] => {
    if (!baseline) return [];
    return rounds.flatMap((r) => {
      const b = at(shape, c, baseline, n).find((s) => s.round === r)?.metrics.faultsPerSecPerCpu;
      const x = at(shape, c, era, n).find((s) => s.round === r)?.metrics.faultsPerSecPerCpu;
      return b && typeof x === 'number' ? [x / b] : [];
    });
  };
  const perVma = plan.eras.filter((e) => e.generation !== null);
  const ofShape = (shape: Shape, era: string) =>
    plan.churns.flatMap((c) => plan.cpus.flatMap((n) => at(shape, c, era, n)));
  return { plan, baseline, perVma, rounds, at, ratios, ofShape };
}
