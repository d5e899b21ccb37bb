// `mmrace bench`: the experiment list, bad input, and the rwsem experiment end to end with tiny
// samples: --json parses, and --out's SVG and HTML, read with real parsers (fast-xml-parser,
// htmlparser2), carry the expected series, axis titles and table headers. No timing is asserted:
// the figures depend on the host's load. Each run is its own process (mmraceAlone checks that no
// process of it is left), so its CPU workers end with it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomUtils, parseDocument } from 'htmlparser2';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOneLine, mmrace, mmraceAlone } from './helpers/cli.js';
import { svgTexts as svgOf } from './helpers/svg.js';

const dir = mkdtempSync(join(tmpdir(), 'mmrace-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cores = availableParallelism();
/** One CPU count beyond the host's cores, when the machine has that many CPUs (16). */
const over = cores + 1 <= 16 ? cores + 1 : null;

const svgTexts = (file: string): string[] => svgOf(join(dir, file));

describe('mmrace bench', () => {
  it('lists the experiments with no experiment given', () => {
    const r = mmrace(['bench']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}rwsem {2}/m);
  });

  it('bad input: one line on stderr, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['bench', 'rwsm'], /unknown experiment 'rwsm' \(Did you mean rwsem\?\)/],
      [['bench', 'rwsem', '--cpus', '0,2'], /--cpus <list>.*'0,2' is invalid/],
      [['bench', 'rwsem', '--mixes', '3-1'], /--mixes: expected readers:writers/],
    ];
    const runs = await Promise.all(cases.map(([args]) => mmraceAlone(args, { timeoutMs: 30_000 })));
    runs.forEach((r, i) => {
      expectOneLine(r, 2, cases[i]![1]);
      expect(r.stdout).toBe('');
    });
  });

  it('rwsem end to end: --json parses, --out writes CSV, JSON, SVG and HTML with the series and labels', async () => {
    const cpus = [...new Set([1, 2, ...(over ? [over] : [])])].join(',');
    const r = await mmraceAlone(
      [
        'bench',
        'rwsem',
        '--cpus',
        cpus,
        '--duration',
        '20',
        '--rounds',
        '1',
        '--mixes',
        '1:1',
        '--hold',
        '0',
        '--spin',
        'off',
        '--json',
        '--out',
        dir,
      ],
      { timeoutMs: 60_000 },
    );
    expect(r.timedOut).toBe(false);
    expect(r.leftover).toBe(false);
    expect(r.code, r.stderr).toBe(0);

    // --json: the document on stdout, the same as bench.json.
    const doc = JSON.parse(r.stdout) as {
      experiment: string;
      machine: { cores: number; node: string; cpuModel: string; mmraceCommit: string | null };
      samples: {
        group: string;
        series: string;
        cpus: number;
        oversubscribed: boolean;
        metrics: Record<string, unknown>;
      }[];
      tables: { id: string; columns: string[] }[];
      notes: string[];
    };
    expect(doc.experiment).toBe('rwsem');
    expect(doc.machine).toMatchObject({ cores, node: process.version });
    expect(typeof doc.machine.cpuModel).toBe('string');
    expect(
      doc.machine.mmraceCommit === null || /^[0-9a-f]{40}(-dirty)?$/.test(doc.machine.mmraceCommit),
    ).toBe(true);
    const file = JSON.parse(readFileSync(join(dir, 'bench.json'), 'utf8')) as typeof doc;
    expect(file.samples).toEqual(doc.samples);
    // Scaling: 2 kinds at every CPU count; mixes: 3 configurations (v4.14; v6.6 handoff on, off) at n >= 2.
    const counts = cpus.split(',').map(Number);
    expect(doc.samples.filter((s) => s.group === 'scaling')).toHaveLength(2 * counts.length);
    expect(doc.samples.filter((s) => s.group === 'mix')).toHaveLength(3 * (counts.length - 1));
    for (const s of doc.samples) {
      expect(s.oversubscribed).toBe(s.cpus > cores);
      expect(s.metrics.opsPerSec).toBeGreaterThan(0);
    }
    expect(new Set(doc.samples.filter((s) => s.group === 'mix').map((s) => s.series))).toEqual(
      new Set(['v4.14 spin off', 'v6.6 handoff on spin off', 'v6.6 handoff off spin off']),
    );
    expect(doc.notes.some((n) => /2 CPUs vs 1: .*kernel 0\.57x/.test(n))).toBe(true);

    // CSV: one row per sample.
    const csv = readFileSync(join(dir, 'samples.csv'), 'utf8').trim().split('\n');
    expect(csv[0]!.split(',').slice(0, 6)).toEqual([
      'group',
      'series',
      'cpus',
      'host_cores',
      'oversubscribed',
      'round',
    ]);
    expect(csv).toHaveLength(doc.samples.length + 1);

    // SVG: the scaling figure's axis titles, series, published lines and host-core marks.
    const scaling = svgTexts('scaling.svg');
    for (const t of [
      'reader CPUs',
      'reads/s relative to 1 CPU',
      'rwsem readers (shared count)',
      'seqcount readers',
      'published: kernel rwsem, 2 vs 1: 0.57x',
      'published: seqcount, 2 vs 1: > 1.5x',
      `host: ${cores} cores; oversubscribed beyond`,
      'within host cores',
      'oversubscribed',
    ])
      expect(scaling, t).toContain(t);
    for (const [f, y] of [
      ['mix-throughput.svg', 'acquisitions/s'],
      ['mix-write-wait.svg', 'writer wait p99 (µs)'],
      ['mix-read-wait.svg', 'reader wait p99 (µs)'],
    ] as const) {
      const t = svgTexts(f);
      expect(t, f).toContain(y);
      for (const s of ['v4.14 spin off', 'v6.6 handoff on spin off', 'v6.6 handoff off spin off'])
        expect(t, `${f}: ${s}`).toContain(s);
    }

    // HTML: both tables with their headers (host column added), every figure inline, the machine.
    const html = parseDocument(readFileSync(join(dir, 'index.html'), 'utf8'));
    const table = (id: string) =>
      DomUtils.findOne((e) => e.name === 'table' && e.attribs.id === `table-${id}`, html.children);
    const heads = (id: string) =>
      DomUtils.findAll((e) => e.name === 'th', [table(id)!]).map((e) => DomUtils.textContent(e));
    expect(heads('scaling')).toEqual([
      'readers',
      'CPUs',
      'reads/s',
      'per CPU',
      'vs 1 CPU',
      'cores used',
      'published',
      'host',
    ]);
    expect(heads('mixes')).toEqual([
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
      'host',
    ]);
    const rows = DomUtils.findAll((e) => e.name === 'tr', [table('scaling')!]).slice(1);
    expect(rows).toHaveLength(2 * counts.length);
    for (const tr of rows) {
      const cells = DomUtils.findAll((e) => e.name === 'td', [tr]).map((e) => DomUtils.textContent(e));
      expect(cells.at(-1)).toBe(`${cores} cores`);
      expect(cells[1]!.endsWith('(oversubscribed)')).toBe(Number.parseInt(cells[1]!, 10) > cores);
    }
    const figures = DomUtils.findAll((e) => e.name === 'figure', html.children);
    expect(figures.map((f) => f.attribs.id)).toEqual([
      'figure-scaling',
      'figure-mix-throughput',
      'figure-mix-write-wait',
      'figure-mix-read-wait',
    ]);
    for (const f of figures) expect(DomUtils.findOne((e) => e.name === 'svg', [f])).not.toBeNull();
    expect(
      DomUtils.textContent(DomUtils.findOne((e) => e.attribs.class === 'machine', html.children)!),
    ).toMatch(new RegExp(`${cores} cores?, node ${process.version.replaceAll('.', '\\.')}`));
  });

  it('prints the tables with the host cores and no progress bar when not on a terminal', () => {
    const r = mmrace([
      'bench',
      'rwsem',
      '--parts',
      'scaling',
      '--cpus',
      '1',
      '--duration',
      '10',
      '--rounds',
      '1',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Reader scaling: /m);
    expect(r.stdout).toMatch(/^readers +CPUs +reads\/s +per CPU +vs 1 CPU +cores used +published +host$/m);
    expect(r.stdout).toMatch(new RegExp(`^host: .*, ${cores} cores?, node `, 'm'));
  });
});
