// `mmrace bench` reports: the terminal tables, and with --out the CSV of every sample, the JSON
// (samples, tables, notes, the machine), one SVG per figure and an index.html with all of it.
// Host cores go beside every result: each table gets a `host` column, and its CPU column marks
// the runs with more emulated CPUs than host cores as oversubscribed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cell, ExperimentOutput, ResultTable, Sample } from '../experiments/experiment.js';
import { figureSvg } from './bench_plots.js';
import { type MachineInfo, machineLine } from './machine_info.js';

export interface BenchRun {
  experiment: string;
  description: string;
  /** The common flags and the experiment's options, as run. */
  options: Record<string, unknown>;
  machine: MachineInfo;
  wallMs: number;
  output: ExperimentOutput;
}

const OVERSUB_MARK = ' (oversubscribed)';

/** The table as printed: the CPU column marked, a host column added. */
export function hostTable(t: ResultTable, hostCores: number): { columns: string[]; rows: string[][] } {
  const cell = (c: Cell) => (c === null ? '-' : String(c));
  if (t.cpuColumn === undefined) return { columns: t.columns, rows: t.rows.map((r) => r.map(cell)) };
  const k = t.cpuColumn;
  return {
    columns: [...t.columns, 'host'],
    rows: t.rows.map((r) => {
      const over = Number(r[k]) > hostCores;
      const out = r.map((c, i) => (i === k && over ? `${cell(c)}${OVERSUB_MARK}` : cell(c)));
      out.push(`${hostCores} cores`);
      return out;
    }),
  };
}

const isNumeric = (s: string) => /^[-+]?[\d,.]+(x| ns| µs| ms)?( \[.*\])?$/.test(s);

/** Fixed-width text: numbers right-aligned, text left-aligned. */
export function textTable(columns: string[], rows: string[][]): string {
  const w = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[], header: boolean) =>
    cells
      .map((c, i) => (!header && isNumeric(c) ? c.padStart(w[i]!) : c.padEnd(w[i]!)))
      .join('  ')
      .trimEnd();
  return [
    line(columns, true),
    w.map((n) => '-'.repeat(n)).join('  '),
    ...rows.map((r) => line(r, false)),
  ].join('\n');
}

/** Everything the terminal shows after the run (not under --json). */
export function terminalReport(run: BenchRun): string {
  const out: string[] = [];
  out.push(`mmrace bench ${run.experiment}: ${run.description}`);
  out.push(machineLine(run.machine));
  for (const t of run.output.tables) {
    const ht = hostTable(t, run.machine.cores);
    out.push('', t.title, textTable(ht.columns, ht.rows));
    for (const n of t.notes ?? []) out.push(`  ${n}`);
  }
  if (run.output.notes.length) {
    out.push('', 'Findings:');
    for (const n of run.output.notes) out.push(`- ${n}`);
  }
  if (run.output.lockStat) out.push('', run.output.lockStat.trimEnd());
  out.push('', `${run.output.samples.length} samples in ${(run.wallMs / 1000).toFixed(1)} s`);
  return `${out.join('\n')}\n`;
}

/** The JSON document (stdout under --json, bench.json under --out). */
export function jsonReport(run: BenchRun): Record<string, unknown> {
  return {
    experiment: run.experiment,
    description: run.description,
    machine: run.machine,
    options: run.options,
    wallMs: Math.round(run.wallMs),
    samples: run.output.samples,
    tables: run.output.tables.map((t) => ({ ...t, ...hostTable(t, run.machine.cores) })),
    figures: run.output.figures.map((f) => ({ id: f.id, title: f.title, file: `${f.id}.svg` })),
    notes: run.output.notes,
    headlines: run.output.headlines ?? [],
    ...(run.output.lockStat ? { lockStat: run.output.lockStat } : {}),
  };
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** One row per sample: its place (group, series, CPUs, round), its parameters, its metrics. */
export function samplesCsv(samples: readonly Sample[], hostCores: number): string {
  const params = [...new Set(samples.flatMap((s) => Object.keys(s.params)))];
  const metrics = [...new Set(samples.flatMap((s) => Object.keys(s.metrics)))];
  const head = ['group', 'series', 'cpus', 'host_cores', 'oversubscribed', 'round', ...params, ...metrics];
  const rows = samples.map((s) =>
    [
      s.group,
      s.series,
      s.cpus,
      hostCores,
      s.oversubscribed,
      s.round,
      ...params.map((p) => s.params[p]),
      ...metrics.map((m) => s.metrics[m]),
    ]
      .map(csvCell)
      .join(','),
  );
  return `${[head.join(','), ...rows].join('\n')}\n`;
}

const esc = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** index.html: the machine, every table, every figure (inline SVG), the findings and lock_stat. */
export function htmlReport(run: BenchRun, svgs: Map<string, string>): string {
  const h: string[] = [];
  const cores = run.machine.cores;
  h.push('<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">');
  h.push(`<title>mmrace bench ${esc(run.experiment)}</title>`);
  h.push(
    '<style>body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;margin:1em 0}' +
      'th,td{border:1px solid #ccc;padding:2px 8px;font-size:13px}td.num{text-align:right}' +
      'td.oversubscribed{background:#fde8e8}caption{text-align:left;font-weight:bold;padding:4px 0}' +
      'figure{margin:1.5em 0}pre{background:#f6f6f6;padding:1em;overflow:auto}</style>',
  );
  h.push('</head>', '<body>');
  h.push(`<h1>mmrace bench ${esc(run.experiment)}</h1>`, `<p>${esc(run.description)}</p>`);
  h.push(`<p class="machine">${esc(machineLine(run.machine))}</p>`);
  h.push(
    `<p>Host cores: <strong>${cores}</strong>. Rows and points with more emulated CPUs than host cores are marked <em>oversubscribed</em>: the CPUs take turns on the cores.</p>`,
  );
  h.push('<h2>Tables</h2>');
  for (const t of run.output.tables) {
    const ht = hostTable(t, cores);
    h.push(`<table id="table-${esc(t.id)}">`, `<caption>${esc(t.title)}</caption>`, '<thead><tr>');
    for (const c of ht.columns) h.push(`<th>${esc(c)}</th>`);
    h.push('</tr></thead>', '<tbody>');
    for (const r of ht.rows) {
      h.push('<tr>');
      r.forEach((c, i) => {
        const cls = [
          isNumeric(c) ? 'num' : '',
          i === t.cpuColumn && c.endsWith(OVERSUB_MARK) ? 'oversubscribed' : '',
        ]
          .filter(Boolean)
          .join(' ');
        h.push(`<td${cls ? ` class="${cls}"` : ''}>${esc(c)}</td>`);
      });
      h.push('</tr>');
    }
    h.push('</tbody>', '</table>');
    for (const n of t.notes ?? []) h.push(`<p class="note">${esc(n)}</p>`);
  }
  h.push('<h2>Figures</h2>');
  for (const f of run.output.figures) {
    const svg = svgs.get(f.id);
    h.push(`<figure id="figure-${esc(f.id)}">`);
    if (svg) h.push(svg.replace(/^<\?xml[^>]*>\s*/, ''));
    h.push(
      `<figcaption>${esc(f.title)} (<a href="${esc(f.id)}.svg">${esc(f.id)}.svg</a>)</figcaption>`,
      '</figure>',
    );
  }
  if (run.output.notes.length) {
    h.push('<h2>Findings</h2>', '<ul>');
    for (const n of run.output.notes) h.push(`<li>${esc(n)}</li>`);
    h.push('</ul>');
  }
  if (run.output.lockStat) h.push('<h2>lock_stat</h2>', `<pre>${esc(run.output.lockStat)}</pre>`);
  h.push('<h2>Files</h2>', '<ul>');
  h.push('<li><a href="samples.csv">samples.csv</a>: every sample</li>');
  h.push('<li><a href="bench.json">bench.json</a>: samples, tables, findings and the machine</li>');
  h.push('</ul>', '</body>', '</html>');
  return `${h.join('\n')}\n`;
}

/** Writes samples.csv, bench.json, <figure>.svg and index.html into `dir`; returns the files. */
export async function writeBenchFiles(dir: string, run: BenchRun): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const put = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    files.push(join(dir, name));
  };
  put('samples.csv', samplesCsv(run.output.samples, run.machine.cores));
  put('bench.json', `${JSON.stringify(jsonReport(run), null, 2)}\n`);
  const svgs = new Map<string, string>();
  for (const f of run.output.figures) {
    const svg = await figureSvg(f, run.machine.cores);
    svgs.set(f.id, svg);
    put(`${f.id}.svg`, svg);
  }
  put('index.html', htmlReport(run, svgs));
  return files;
}
