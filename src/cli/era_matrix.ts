// --eras on the command line: the list of eras, which variant runs on each, and the verdict table
// with one row per era.
import pc from 'picocolors';
import { eraByName } from '../eras/index.js';
import { firstFailingSeed } from '../report/merge_rows.js';
import { hitsCell, type VerdictRow } from '../report/verdict.js';
import { erasInReleaseOrder, matrixVariant, suggestEra, variantsAreEras } from '../scenarios/era_matrix.js';
import type { Scenario, Variant } from '../scenarios/scenario.js';
import { UsageError } from './args.js';

/** Runs per era when --runs is not given: the variants' default, lowered to fit MATRIX_RUN_BUDGET. */
export const MATRIX_RUN_BUDGET = 1000;

function knownEras(): string {
  return `${erasInReleaseOrder()
    .map((e) => e.name)
    .join(', ')}, or all`;
}

/**
 * `--eras all` or `--eras v4.14,v4.15,v4.14+PARAVIRT=n`: the era names, in the order given ('all':
 * every era in release order), each once. An unknown name or an empty list is bad input.
 */
export function parseEras(text: string, what = '--eras'): string[] {
  const words = text
    .split(',')
    .map((w) => w.trim())
    .filter(Boolean);
  if (words.length === 0) throw new UsageError(`${what} needs era names (known: ${knownEras()})`);
  const out: string[] = [];
  for (const w of words) {
    const names = w === 'all' ? erasInReleaseOrder().map((e) => e.name) : [w];
    if (w !== 'all' && !eraByName(w)) {
      const hint = suggestEra(w);
      throw new UsageError(
        `${what}: unknown era '${w}'${hint ? ` (Did you mean ${hint}?)` : ''}; known eras: ${knownEras()}`,
      );
    }
    for (const n of names) if (!out.includes(n)) out.push(n);
  }
  return out;
}

/**
 * The variant that runs on each era. A scenario whose variants are all named after their eras
 * (the 2017 one: v4.14, v4.15) has an era-neutral program: each era runs it as a variant named
 * after that era, and `--variant <any era's name>` means the same (the replay commands printed
 * for a matrix row say `--eras E --variant E`). Otherwise `--variant V` runs V's setup on every
 * era, a scenario of one variant runs that one, and a scenario of several must be told which.
 */
export function matrixVariants(s: Scenario, eras: readonly string[], variant?: string): Variant[] {
  const names = s.variants.map((v) => v.name).join(', ');
  const eraNeutral = variantsAreEras(s);
  let base: Variant | undefined;
  if (variant !== undefined && !(eraNeutral && eraByName(variant))) {
    base = s.variants.find((v) => v.name === variant);
    if (!base) throw new UsageError(`scenario ${s.id} has no variant '${variant}' (variants: ${names})`);
  } else if (variant === undefined && !eraNeutral) {
    if (s.variants.length > 1)
      throw new UsageError(
        `scenario ${s.id} has variants ${names}: with --eras, name the one to run on every era (--variant ${s.variants[0]!.name})`,
      );
    base = s.variants[0];
  }
  return eras.map((era) => matrixVariant(s, era, base));
}

/** Runs per era for a scenario's matrix of `cells` eras when --runs is not given. */
export function matrixRuns(defaultRuns: number, cells: number): number {
  return Math.max(10, Math.min(defaultRuns, Math.floor(MATRIX_RUN_BUDGET / Math.max(1, cells))));
}

function pad(s: string, n: number): string {
  return s + ' '.repeat(Math.max(0, n - s.length));
}

/**
 * One table per scenario, one row per era: era, release, runs, failing runs, expected, observed
 * verdict, whether they match; then the first failing seed and the time.
 */
export function renderMatrix(rows: readonly VerdictRow[], color: boolean): string {
  const c = color ? pc : pc.createColors(false);
  const head = [
    'era',
    'release',
    'runs',
    'hits',
    'expected',
    'verdict',
    'match',
    'first failing seed',
    'time',
  ];
  const out: string[] = [];
  const ids = [...new Set(rows.map((r) => r.id))];
  for (const id of ids) {
    const mine = rows.filter((r) => r.id === id);
    const body = mine.map((r) => [
      r.era,
      eraByName(r.era)?.release ?? '?',
      String(r.runs),
      hitsCell(r),
      r.expected,
      r.observed,
      r.ok ? 'yes' : 'NO',
      String(firstFailingSeed(r) ?? '-'),
      `${(r.wallMs / 1000).toFixed(2)}s`,
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
    const line = (cells: string[]) =>
      cells
        .map((x, i) => pad(x, widths[i]!))
        .join('  ')
        .trimEnd();
    const variants = [...new Set(mine.map((r) => r.variant))];
    const which = variants.length === 1 && variants[0] !== mine[0]!.era ? `, variant ${variants[0]}` : '';
    if (out.length > 0) out.push('');
    out.push(`${id}${which}`, c.bold(line(head)));
    mine.forEach((r, i) => {
      const text = line(body[i]!);
      out.push(r.ok ? text : c.red(text));
    });
    const off = mine.filter((r) => !r.ok);
    out.push(
      off.length === 0
        ? `every era as expected (${plural(mine.length, 'era')})`
        : `${off.length} of ${mine.length} eras differ from the expectation: ${off
            .map((r) => `${r.era} (expected ${r.expected}, ${r.observed})`)
            .join(', ')}`,
    );
  }
  return out.join('\n');
}

export function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** How a matrix row's variant is named in messages: the era, or the variant on the era. */
export function matrixLabel(r: Pick<VerdictRow, 'variant' | 'era'>): string {
  return r.variant === r.era ? r.era : `${r.variant} on ${r.era}`;
}
