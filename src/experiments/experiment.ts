// The contention experiments of `mmrace bench <experiment>`: one interface, one file per experiment.
//
// HOW TO ADD AN EXPERIMENT (fault-scaling, exit-cost, ...): put one file in src/experiments/bench/
// that exports `experiment: Experiment` (and, if its CPUs run code, `prepareCpu` for the worker:
// the campaign's `entry` is the file's own URL, as bench/rwsem.ts does). Nothing else changes:
// registry.ts finds every file of that folder at start-up, the command (src/cli/bench.ts) lists it,
// adds its `options` to `mmrace bench --help`, gives it the common flags (--cpus, --duration,
// --rounds, --lock-stat) through ExperimentContext, and the reports (src/report/bench_*.ts) print
// its tables, write its samples as CSV and JSON, render its figures as SVG and put everything on
// one HTML page. Helpers for the CPU side: bench_kit/ (per-CPU results with HdrHistograms, the
// start barrier, statistics).
//
// The experiment describes its figures as data (Figure), not as a plotting library's spec: the
// report layer, which comes after this one, owns vega-lite. A figure whose x axis is the CPU count
// (cpuAxis) gets the host's cores marked and the oversubscribed points shown as such; a table's
// CPU column (cpuColumn) likewise.
import type { Machine } from '../cpu/machine.js';

/** An experiment's own flag, added to `mmrace bench` (shown in --help with the experiment's name). */
export interface ExperimentOption {
  /** commander's flags, e.g. '--mixes <list>'. */
  flags: string;
  description: string;
  /** Parses the value; throw ExperimentInputError for bad input (one line, exit 2). Absent: the string. */
  parse?: (value: string) => unknown;
  /** The value when the flag is not given, as typed on the command line (parsed, shown in --help). */
  default?: string;
}

/** Bad experiment input: the command prints the message as one line and exits 2. */
export class ExperimentInputError extends Error {}

export interface ExperimentContext {
  machine: Machine;
  /** The CPU counts to run, ascending, each in 1..MAX_CPUS. */
  cpus: number[];
  durationMs: number;
  rounds: number;
  /** Collect lock_stat; the experiment returns /proc/lock_stat in its output. */
  lockStat: boolean;
  /** os.availableParallelism() of this host. */
  hostCores: number;
  /** The experiment's own options, parsed, by commander's camelCase key (e.g. `mixes`). */
  options: Record<string, unknown>;
  /** Called after each sample: `done` of `total` units, and what runs next. */
  progress(done: number, total: number, label: string): void;
}

/** One measured run: the unit of CSV rows and of the JSON's samples. */
export interface Sample {
  /** Which family of runs (a table, a figure): 'mix', 'scaling', ... */
  group: string;
  /** The line in a figure: 'v6.6 handoff on', 'seqcount readers', ... */
  series: string;
  cpus: number;
  round: number;
  /** cpus > host cores. */
  oversubscribed: boolean;
  params: Record<string, string | number | boolean>;
  metrics: Record<string, number | null>;
}

export type Cell = string | number | null;

export interface ResultTable {
  id: string;
  title: string;
  columns: string[];
  rows: Cell[][];
  /** Index of the column that holds a CPU count: its cells are marked when oversubscribed. */
  cpuColumn?: number;
  /** Lines printed under the table (how to read it, the published figure). */
  notes?: string[];
}

export interface Figure {
  /** File name stem: `<id>.svg`. */
  id: string;
  title: string;
  /** One row per point. */
  data: Record<string, Cell | boolean>[];
  x: { field: string; title: string; type: 'quantitative' | 'ordinal' | 'nominal' };
  /** zero: false lets the scale start near the data (ratios around 1), where 0 would flatten them. */
  y: { field: string; title: string; log?: boolean; zero?: boolean };
  /** The field that names the series (one line or bar colour each). */
  series: { field: string; title: string };
  mark: 'line' | 'bar';
  /** x is a CPU count: the host's cores are marked, points beyond them shown as oversubscribed. */
  cpuAxis?: boolean;
  /** Horizontal reference lines (published figures). */
  rules?: { y: number; label: string }[];
  /** Facet: one panel per value of this field. */
  column?: { field: string; title: string };
}

export interface ExperimentOutput {
  samples: Sample[];
  tables: ResultTable[];
  figures: Figure[];
  /** Findings and caveats, printed after the tables (e.g. why a published shape does not reappear here). */
  notes: string[];
  /** /proc/lock_stat after the runs, with --lock-stat. */
  lockStat?: string;
  /** The experiment's published shapes as ratios, for `npm run bench`'s summary table. */
  headlines?: Headline[];
}

/** One published shape, measured: `ratio` of `figure` over `baseline` (null: not measured here, `why`). */
export interface Headline {
  figure: string;
  ratio: number | null;
  baseline: string;
  published: string;
  why?: string;
}

export interface Experiment {
  /** The name on the command line: `mmrace bench <name>`. */
  readonly name: string;
  /** One line for the list. */
  readonly description: string;
  readonly defaults: { cpus: number[]; durationMs: number; rounds: number };
  readonly options: readonly ExperimentOption[];
  run(ctx: ExperimentContext): Promise<ExperimentOutput>;
}
