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
  'shape',
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

interface Doc {
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
  figures: { id: string }[];
  notes: string[];
  headlines: { figure: string; ratio: number | null; baseline: string; published: string; why?: string }[];
}

type Metrics = Doc['samples'][number]['metrics'];

/** A measured sample: faults, rates and ordered percentiles. */
function expectMeasured(m: Metrics, what: string): void {
  expect(m.faults, what).toBeGreaterThan(0);
  expect(m.faultsPerSec, what).toBeGreaterThan(0);
  expect(m.p50Ns, what).toBeGreaterThan(0);
  expect(m.meanNs, what).toBeGreaterThan(0);
  expect(m.p90Ns, what).toBeGreaterThanOrEqual(m.p50Ns!);
  expect(m.p99Ns, what).toBeGreaterThanOrEqual(m.p90Ns!);
  expect(m.maxNs, what).toBeGreaterThanOrEqual(m.p99Ns!);
}

describe('mmrace bench fault-scaling', () => {
  it('bad input: one line on stderr, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['bench', 'fault-scaling', '--eras', 'v6.1,v9.9'], /--eras: unknown era 'v9.9'/],
      [['bench', 'fault-scaling', '--churn', 'on,sometimes'], /--churn/],
      [
        ['bench', 'fault-scaling', '--shapes', 'private,pft'],
        /--shapes: 'pft' is not one of private, shared-vma/,
      ],
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
    const doc = JSON.parse(r.stdout) as Doc;
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
          expect(s[0]!.params.shape).toBe('private');
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
      expect(t.rows.map((row) => row[0])).toEqual(Array(eras.length * 2).fill('private'));
      expect(t.rows.map((row) => row[1])).toEqual([...eras, ...eras]);
      expect(t.rows[0]![2]).toBe('mmap_lock');
      expect(t.rows[2]![2]).toBe('per-VMA (v6.4)');
      expect(t.rows[0]![7]).toBe('1');
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

  it('shapes private and shared-vma: the shared VMA faulted under its VMA lock, its own tables, figures, findings', async () => {
    const eras = ['v6.1', 'rfc-2022-09', 'v6.4', 'v6.15'];
    const out = join(dir, 'shapes');
    const args = ['bench', 'fault-scaling', '--shapes', 'private,shared-vma', '--cpus', '1,2'];
    const r = await mmraceAlone(
      [...args, '--duration', '20', '--rounds', '1', '--pages', '16', '--json', '--out', out],
      {
        timeoutMs: 60_000,
      },
    );
    expect(r.timedOut).toBe(false);
    expect(r.leftover).toBe(false);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.samples).toHaveLength(2 * eras.length * 2 * 2);
    for (const churn of ['on', 'off'])
      for (const era of eras)
        for (const n of [1, 2]) {
          const what = `shared-vma churn ${churn} ${era} ${n}`;
          const s = doc.samples.filter(
            (x) => x.group === `shared-vma-churn-${churn}` && x.series === era && x.cpus === n,
          );
          expect(s, what).toHaveLength(1);
          expect(s[0]!.params.shape).toBe('shared-vma');
          const m = s[0]!.metrics;
          expectMeasured(m, what);
          expect(m.faults, what).toBe(16 * m.loops!);
          expect(m.loops, what).toBeGreaterThanOrEqual(n);
          // Each pass ends with madvise(MADV_DONTNEED) of the slice: nothing is left mapped.
          expect(m.anonPagesLeft, what).toBe(0);
          if (era === 'v6.1') {
            expect(m.VMA_LOCK_SUCCESS! + m.VMA_LOCK_ABORT! + m.VMA_LOCK_RETRY! + m.VMA_LOCK_MISS!).toBe(0);
            continue;
          }
          // Only the VMA's first fault (no anon_vma yet; madvise keeps it) may leave the VMA lock:
          // at most one per fault CPU; every other fault of every pass is a SUCCESS.
          const off = m.VMA_LOCK_ABORT! + m.VMA_LOCK_RETRY! + m.VMA_LOCK_MISS!;
          expect(off, what).toBeLessThanOrEqual(n);
          expect(m.VMA_LOCK_SUCCESS! + off, what).toBe(m.faults);
          if (era === 'v6.15') expect(m.VMA_LOCK_ABORT, what).toBe(0);
          else expect(m.VMA_LOCK_RETRY, what).toBe(0);
        }
    // The private shape beside it: a fresh VMA every pass, so one ABORT per pass in rfc-2022-09.
    const priv = doc.samples.find(
      (x) => x.group === 'churn-off' && x.series === 'rfc-2022-09' && x.cpus === 1,
    )!;
    expect(priv.params.shape).toBe('private');
    expect(priv.metrics.VMA_LOCK_ABORT).toBe(priv.metrics.loops);
    for (const x of doc.samples.filter((y) => y.params.shape === 'private'))
      expect(x.metrics.anonPagesLeft).toBe(0);

    expect(doc.tables.map((t) => t.id)).toEqual([
      'fault-scaling-churn-on',
      'fault-scaling-churn-off',
      'fault-scaling-shared-vma-churn-on',
      'fault-scaling-shared-vma-churn-off',
    ]);
    for (const t of doc.tables) {
      const shape = t.id.includes('shared-vma') ? 'shared-vma' : 'private';
      expect(t.columns).toEqual([...COLUMNS, 'host']);
      expect(t.rows.map((row) => row[0])).toEqual(Array(eras.length * 2).fill(shape));
      expect(t.rows.map((row) => row[1])).toEqual([...eras, ...eras]);
      expect(t.rows.map((row) => row[3])).toEqual(['1', '1', '1', '1', '2', '2', '2', '2']);
    }
    const shared = doc.tables.find((t) => t.id === 'fault-scaling-shared-vma-churn-off') as unknown as {
      title: string;
    };
    expect(shared.title).toMatch(/^Fault scaling, shared VMA, no writer: .*madvise\(MADV_DONTNEED\)/);
    for (const churn of ['1 writer churning mmap_lock', 'no writer'])
      expect(
        doc.notes.some((n) =>
          new RegExp(
            `^Shared VMA, ${churn}: faults/s per CPU ÷ v6\\.1's at 1, 2 fault CPUs: rfc-2022-09 1 [\\d.]+x, 2 [\\d.]+x; v6\\.4 .*Published: mmtests pft-threads.*-0\\.50%`,
          ).test(n),
        ),
        churn,
      ).toBe(true);
    expect(doc.notes.some((n) => /^Shared VMA against the published figures: .*page_fault3/.test(n))).toBe(
      true,
    );
    // The private shape's findings are still there, and not mixed with the shared VMA's samples.
    expect(
      doc.notes.some((n) => /^rfc-2022-09 vs v6\.1, .*Published: will-it-scale page_fault3/.test(n)),
    ).toBe(true);
    expect(doc.headlines.map((h) => h.figure)).toEqual([
      expect.stringMatching(/^fault-scaling: faults\/s per CPU, .* 1 CPU, 1 writer churning mmap_lock$/),
      expect.stringMatching(/^fault-scaling: shared VMA, faults\/s per CPU, .* 1 fault CPU, no writer$/),
    ]);
    expect(doc.headlines[1]!.published).toBe('0.995x at 1 thread (pft-threads -0.5%)');

    expect(doc.figures.map((f) => f.id)).toEqual([
      'fault-scaling-per-cpu',
      'fault-scaling-speedup',
      'fault-scaling-shared-vma-per-cpu',
      'fault-scaling-shared-vma-speedup',
    ]);
    const perCpu = svgOf(join(out, 'fault-scaling-shared-vma-per-cpu.svg'));
    for (const t of ['fault CPUs', 'faults/s per CPU', ...eras, '1 writer churning mmap_lock', 'no writer'])
      expect(perCpu, t).toContain(t);
    const speedup = svgOf(join(out, 'fault-scaling-shared-vma-speedup.svg'));
    for (const t of [
      'faults/s per CPU ÷ v6.1',
      ...eras.slice(1),
      'published: pft-threads 1 thread -0.5%',
      'published: pft-threads 4 threads -9.5%',
    ])
      expect(speedup, t).toContain(t);
    expect(speedup).not.toContain('published: page_fault3 +122% per thread (2.22x)');
    const html = parseDocument(readFileSync(join(out, 'index.html'), 'utf8'));
    const figures = DomUtils.findAll((e) => e.name === 'figure', html.children);
    expect(figures.map((f) => f.attribs.id)).toEqual(doc.figures.map((f) => `figure-${f.id}`));
    const table = DomUtils.findOne(
      (e) => e.name === 'table' && e.attribs.id === 'table-fault-scaling-shared-vma-churn-on',
      html.children,
    );
    expect(table).not.toBeNull();
    const cells = DomUtils.findAll((e) => e.name === 'td', [table!]).map((e) => DomUtils.textContent(e));
    expect(cells.filter((c) => c === 'shared-vma')).toHaveLength(eras.length * 2);
  });
});
