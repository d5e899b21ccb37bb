// `mmrace catalogue`: every built-in entry graded the way the catalogue promises (catalogue_pass.ts):
// a bounded pass by default, `--full` (npm run catalogue:full) for the campaign sizes the promises
// name: 1,000 free runs, 10,000 PCT runs or the whole DFS space, 11 trials to the first hit.
import type { Command } from 'commander';
import { sharedMachine } from '../scenarios/campaign.js';
import { BUILTIN, type CatalogueEntry } from '../scenarios/catalogue.js';
import { BOUNDED, type FirstHit, FULL, type PassRow, passVariant } from '../scenarios/catalogue_pass.js';
import { UsageError } from './args.js';
import { progressBar, wantsProgress } from './progress.js';

interface CatalogueOptions {
  full?: boolean;
  only?: string;
  json?: boolean;
}

function pick(only: string | undefined): readonly CatalogueEntry[] {
  if (!only) return BUILTIN;
  const ids = only.split(',').map((x) => x.trim());
  for (const id of ids)
    if (!BUILTIN.some((e) => e.scenario.id === id))
      throw new UsageError(`unknown catalogue entry '${id}' (see 'mmrace list')`);
  return BUILTIN.filter((e) => ids.includes(e.scenario.id));
}

export function catalogueCommand(program: Command, done: (code: number) => void): Command {
  return program
    .command('catalogue')
    .description(
      'grade every catalogue entry: free and PCT hits, time and runs to the first hit, clean controls',
    )
    .option(
      '--full',
      '1,000 free runs, 10,000 PCT runs (or the whole DFS space at bound 2 when within 20,000), 11 first-hit trials',
    )
    .option('--only <ids>', 'only these entries (comma-separated ids)')
    .option('--json', 'print the rows as JSON')
    .action(async (o: CatalogueOptions) => {
      const entries = pick(o.only);
      const sizes = o.full ? FULL : BOUNDED;
      const machine = sharedMachine();
      const bar = wantsProgress(o.json) ? progressBar() : null;
      const rows: PassRow[] = [];
      for (const e of entries)
        for (const v of e.scenario.variants)
          rows.push(
            await passVariant(machine, e, v, sizes, (label, total) =>
              bar?.start(label, total, total === null ? 'schedules explored' : 'runs'),
            ).finally(() => bar?.stop()),
          );
      const ok = rows.every((r) => r.ok);
      if (o.json) process.stdout.write(`${JSON.stringify({ ok, sizes, rows }, null, 2)}\n`);
      else process.stdout.write(`${render(rows, o.full === true).join('\n')}\n`);
      done(ok ? 0 : 1);
    });
}

const frac = (hits: number, runs: number) => `${hits}/${runs}`;

function first(f: FirstHit | undefined): string {
  if (!f) return '-';
  if (f.ms === null)
    return f.hit === 0
      ? `none in ${f.trials} trials of ${f.cap} runs`
      : `median beyond ${f.cap} runs (${f.hit} of ${f.trials} trials hit)`;
  const some = f.hit < f.trials ? ` (${f.hit} of ${f.trials} trials hit)` : '';
  return `${f.ms < 1000 ? `${Math.round(f.ms)} ms` : `${(f.ms / 1000).toFixed(1)} s`}, ${f.runs} runs${some}`;
}

/** Runs to the first hit, free with the jitter off over PCT: how much PCT saves. */
function gain(r: PassRow): string {
  const h = r.firstHit;
  if (!h || h.pct.runs === null) return '-';
  if (h.freeNoJitter.runs === null) return `>${Math.floor(h.freeNoJitter.cap / h.pct.runs)}x`;
  return `${(h.freeNoJitter.runs / h.pct.runs).toFixed(1)}x`;
}

function render(rows: readonly PassRow[], full: boolean): string[] {
  const head = [
    'entry',
    'variant',
    'expected',
    'free',
    'pct / dfs',
    'first hit free',
    'first hit pct',
    'no-jitter free',
    'pct gain',
    'ok',
  ];
  const body = rows.map((r) => [
    r.id,
    r.variant,
    r.expected,
    `${frac(r.free.hits, r.free.runs)} ${r.free.observed}`,
    r.dfs?.complete
      ? `dfs: whole space, ${r.dfs.runs} schedules, ${r.dfs.hits} failing`
      : r.pct
        ? `pct: ${frac(r.pct.hits, r.pct.runs)} ${r.pct.observed}`
        : '-',
    first(r.firstHit?.free),
    first(r.firstHit?.pct),
    r.firstHit ? first(r.firstHit.freeNoJitter) : '-',
    gain(r),
    r.ok ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [`catalogue, ${full ? 'full' : 'bounded'} pass`, '', line(head), ...body.map(line), ''];
  for (const r of rows) {
    const c = r.pct ?? r.dfs;
    if (c?.schedule && c.seed !== null)
      out.push(
        `${r.id} ${r.variant}: first failure (seed ${c.seed}) ${c.failure ?? ''}; replay it: mmrace replay ${r.id} '${c.schedule}' --variant ${r.variant}`,
      );
  }
  const bad = rows.filter((r) => !r.ok);
  out.push(
    bad.length === 0
      ? `every entry as expected (${rows.length} variants)`
      : `${bad.length} of ${rows.length} variants differ from the expectation`,
  );
  return out;
}
