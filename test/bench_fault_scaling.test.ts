// `mmrace bench fault-scaling` end to end with tiny samples: every era x churn setting x CPU count
// measured (faults and latency percentiles present), VMA_LOCK_SUCCESS counted in the per-VMA lock
// eras and never in v6.1, the tables' columns, and --out's SVG and HTML read with real parsers
// (fast-xml-parser, htmlparser2): the series, axis titles, the host's cores and the published line.
// No timing is asserted: the figures depend on the host's load. Each run is its own process
// (mmraceAlone checks that none of it is left running), so its CPU workers end with it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomUtils, parseDocument } from 'htmlparser2';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOneLine, mmraceAlone } from './helpers/cli.js';
import { svgTexts as svgOf } from './helpers/svg.js';

const dir = mkdtempSync(join(tmpdir(), 'mmrace-bench-fault-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cores = availableParallelism();

const svgTexts = (file: string): string[] => svgOf(join(dir, file));

const COLUMNS = [
  'era',
  'fault path',
  'fault CPUs',
  'all CPUs',
  'faults/s',
  'per CPU',
  'per CPU ÷ v6.1',
  'mean',
  'p50',
  'p90',
  'p99',
  'max',
  'VMA_LOCK_SUCCESS',
  'ABORT',
  'RETRY',
  'MISS',
  'writer loops/s',
  'cores used',
  'run-queue wait',
  'rcu_sched cores',
];

describe('mmrace bench fault-scaling', () => {
  it('bad input: one line on stderr, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['bench', 'fault-scaling', '--eras', 'v6.1,v9.9'], /--eras: unknown era 'v9.9'/],
      [['bench', 'fault-scaling', '--churn', 'on,sometimes'], /--churn/],
      [['bench', 'fault-scaling', '--writers', '0'], /--writers: expected an integer from 1 to 14, got '0'/],
      [
        ['bench', 'fault-scaling', '--cpus', '14', '--writers', '2'],
        /14 fault CPUs \+ 2 writers \+ rcu_sched = 17 CPUs, more than the machine's 16/,
      ],
      [
        ['bench', 'fault-scaling', '--cpus', '2', '--pages', '512'],
        /2 fault CPUs x --pages 512 = 1024 pages/,
      ],
    ];
    const runs = await Promise.all(cases.map(([args]) => mmraceAlone(args, { timeoutMs: 30_000 })));
    runs.forEach((r, i) => {
      expectOneLine(r, 2, cases[i]![1]);
      expect(r.stdout).toBe('');
    });
  });

  it('end to end: 4 eras x churn on/off x 1, 2 CPUs; counters, tables, CSV, JSON, SVG and HTML', async () => {
    const eras = ['v6.1', 'rfc-2022-09', 'v6.4', 'v6.15'];
    const args = [
      'bench',
      'fault-scaling',
      '--cpus',
      '1,2',
      '--duration',
      '20',
      '--rounds',
      '1',
      '--pages',
      '16',
    ];
    const r = await mmraceAlone([...args, '--json', '--out', dir], { timeoutMs: 60_000 });
    expect(r.timedOut).toBe(false);
    expect(r.leftover).toBe(false);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      experiment: string;
      samples: {
        group: string;
        series: string;
        cpus: number;
        oversubscribed: boolean;
        params: Record<string, string | number>;
        metrics: Record<string, number | null>;
      }[];
      tables: { id: string; columns: string[]; rows: (string | number | null)[][] }[];
      notes: string[];
    };
    expect(doc.experiment).toBe('fault-scaling');
    expect(doc.samples).toHaveLength(eras.length * 2 * 2);
    for (const group of ['churn-on', 'churn-off'])
      for (const era of eras)
        for (const n of [1, 2]) {
          const s = doc.samples.filter((x) => x.group === group && x.series === era && x.cpus === n);
          expect(s, `${group} ${era} ${n}`).toHaveLength(1);
          const m = s[0]!.metrics;
          expect(m.faults, `${group} ${era} ${n}`).toBeGreaterThan(0);
          expect(m.faultsPerSec).toBeGreaterThan(0);
          expect(m.p50Ns).toBeGreaterThan(0);
          expect(m.meanNs).toBeGreaterThan(0);
          expect(m.p90Ns).toBeGreaterThanOrEqual(m.p50Ns!);
          expect(m.p99Ns).toBeGreaterThanOrEqual(m.p90Ns!);
          expect(m.maxNs).toBeGreaterThanOrEqual(m.p99Ns!);
          expect(m).toHaveProperty('rcuCoresUsed');
          expect(s[0]!.oversubscribed).toBe(n > cores);
          expect(s[0]!.params.allCpus).toBe(n + (group === 'churn-on' ? 1 : 0) + 1);
          if (era === 'v6.1') {
            expect(m.VMA_LOCK_SUCCESS).toBe(0);
            expect(m.VMA_LOCK_ABORT! + m.VMA_LOCK_RETRY! + m.VMA_LOCK_MISS!).toBe(0);
          } else expect(m.VMA_LOCK_SUCCESS, `${group} ${era} ${n}`).toBeGreaterThan(0);
          if (group === 'churn-on') expect(m.writerLoopsPerSec).toBeGreaterThan(0);
          else expect(m.writerLoopsPerSec).toBeNull();
        }
    for (const id of ['fault-scaling-churn-on', 'fault-scaling-churn-off']) {
      const t = doc.tables.find((x) => x.id === id)!;
      expect(t.columns).toEqual([...COLUMNS, 'host']);
      for (const row of t.rows) expect(row.at(-1)).toBe(`${cores} cores`);
      expect(t.rows).toHaveLength(eras.length * 2);
      expect(t.rows.map((row) => row[0])).toEqual([...eras, ...eras]);
      expect(t.rows[0]![1]).toBe('mmap_lock');
      expect(t.rows[2]![1]).toBe('per-VMA (v6.4)');
      expect(t.rows[0]![6]).toBe('1');
    }
    // The published figure beside each per-VMA era's measured ratio.
    for (const era of eras.slice(1))
      expect(
        doc.notes.some((n) =>
          new RegExp(
            `^${era.replaceAll('.', '\\.')} vs v6\\.1, .*1 fault CPU [\\d.-]+x.* Published: will-it-scale page_fault3.*\\+122\\.2%`,
          ).test(n),
        ),
        era,
      ).toBe(true);
    expect(
      doc.notes.some((n) => /^At 1 fault CPU with 1 writer churning mmap_lock the best per-VMA era/.test(n)),
    ).toBe(true);
    expect(
      doc.notes.some((n) =>
        /^Mean time inside __do_page_fault\(\) at 1 fault CPU, no writer -> 1 writer/.test(n),
      ),
    ).toBe(true);

    const csv = readFileSync(join(dir, 'samples.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(doc.samples.length + 1);
    const perCpu = svgTexts('fault-scaling-per-cpu.svg');
    for (const t of [
      'fault CPUs',
      'faults/s per CPU',
      ...eras,
      '1 writer churning mmap_lock',
      'no writer',
      `host: ${cores} cores; oversubscribed beyond`,
    ])
      expect(perCpu, t).toContain(t);
    const speedup = svgTexts('fault-scaling-speedup.svg');
    for (const t of [
      'fault CPUs',
      'faults/s per CPU ÷ v6.1',
      ...eras.slice(1),
      'published: page_fault3 +122% per thread (2.22x)',
    ])
      expect(speedup, t).toContain(t);
    const html = parseDocument(readFileSync(join(dir, 'index.html'), 'utf8'));
    const table = (id: string) =>
      DomUtils.findOne((e) => e.name === 'table' && e.attribs.id === `table-${id}`, html.children);
    for (const id of ['fault-scaling-churn-on', 'fault-scaling-churn-off']) {
      const heads = DomUtils.findAll((e) => e.name === 'th', [table(id)!]).map((e) =>
        DomUtils.textContent(e),
      );
      expect(heads).toEqual([...COLUMNS, 'host']);
    }
    const figures = DomUtils.findAll((e) => e.name === 'figure', html.children);
    expect(figures.map((f) => f.attribs.id)).toEqual([
      'figure-fault-scaling-per-cpu',
      'figure-fault-scaling-speedup',
    ]);
    for (const f of figures) expect(DomUtils.findOne((e) => e.name === 'svg', [f])).not.toBeNull();
    const body = DomUtils.textContent(html);
    for (const t of [...eras, 'published: page_fault3 +122% per thread (2.22x)', 'faults/s per CPU ÷ v6.1'])
      expect(body, t).toContain(t);
  });
});
