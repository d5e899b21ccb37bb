// `mmrace bench exit-cost` end to end with tiny samples: every era and shape measured (iterations
// and percentiles present, every page given back: the experiment throws on a leak), the ratio to
// the first era exactly 1 for itself, the tables' columns, and --out's SVG and HTML read with real
// parsers. No timing is asserted: the figures depend on the host's load.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomUtils, parseDocument } from 'htmlparser2';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOneLine, mmraceAlone } from './helpers/cli.js';
import { svgTexts } from './helpers/svg.js';

const dir = mkdtempSync(join(tmpdir(), 'mmrace-bench-exit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mmrace bench exit-cost', () => {
  it('bad input: one line on stderr, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['bench', 'exit-cost', '--eras', 'v4.17,v9.9'], /--eras: unknown era 'v9.9'/],
      [['bench', 'exit-cost', '--pages', '0'], /--pages: expected an integer from 1 to 512, got '0'/],
      [['bench', 'exit-cost', '--shapes', 'exit,spawn'], /--shapes/],
      [['bench', 'exit-cost', '--cpus', '2'], /exit-cost: its shapes fix their CPUs/],
    ];
    const runs = await Promise.all(cases.map(([args]) => mmraceAlone(args, { timeoutMs: 30_000 })));
    runs.forEach((r, i) => {
      expectOneLine(r, 2, cases[i]![1]);
      expect(r.stdout).toBe('');
    });
  });

  it('end to end: four shapes on three eras, the ratios, CSV, JSON, SVG and HTML', async () => {
    const eras = ['v4.17', 'v5.17', 'v6.1'];
    const args = ['bench', 'exit-cost', '--duration', '20', '--rounds', '1', '--pages', '4'];
    const r = await mmraceAlone([...args, '--json', '--out', dir], { timeoutMs: 60_000 });
    expect(r.timedOut).toBe(false);
    expect(r.leftover).toBe(false);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      experiment: string;
      samples: { group: string; series: string; metrics: Record<string, number> }[];
      tables: { id: string; columns: string[]; rows: (string | number | null)[][] }[];
      notes: string[];
    };
    expect(doc.experiment).toBe('exit-cost');
    for (const shape of ['exit', 'fork-exit', 'exit-reaper', 'exit-mrelease'])
      for (const era of eras) {
        const s = doc.samples.filter((x) => x.group === shape && x.series === era);
        expect(s, `${shape} ${era}`).toHaveLength(1);
        expect(s[0]!.metrics.iterations).toBeGreaterThan(0);
        expect(s[0]!.metrics.p50Ns).toBeGreaterThan(0);
        expect(s[0]!.metrics.p99Ns).toBeGreaterThanOrEqual(s[0]!.metrics.p50Ns!);
        // One reaper pass per exit: at most as many got the read lock as there were exits.
        if (shape === 'exit-reaper')
          expect(s[0]!.metrics.reaperPassesDone).toBeLessThanOrEqual(s[0]!.metrics.iterations!);
        // One process_mrelease() per exit: it reaped, or found task->mm gone, or (v4.17) had no syscall.
        if (shape === 'exit-mrelease') {
          const m = s[0]!.metrics;
          expect(m.mreleaseReaped! + m.mreleaseEsrch!).toBeLessThanOrEqual(m.iterations!);
          if (era === 'v4.17') expect([m.mreleaseReaped, m.mreleaseEsrch]).toEqual([0, 0]);
        }
      }
    // From v5.15 lmkd, started before the exit, finds the mm and reaps it in some iterations.
    const mreleased = doc.samples
      .filter((x) => x.group === 'exit-mrelease' && x.series !== 'v4.17')
      .reduce((a, x) => a + x.metrics.mreleaseReaped!, 0);
    expect(mreleased).toBeGreaterThan(0);
    // Started before the exit, the reaper gets the read lock in most iterations.
    const reaped = doc.samples
      .filter((x) => x.group === 'exit-reaper')
      .reduce((a, x) => a + x.metrics.reaperPassesDone!, 0);
    expect(reaped).toBeGreaterThan(0);
    for (const id of [
      'exit-cost-exit',
      'exit-cost-fork-exit',
      'exit-cost-exit-reaper',
      'exit-cost-exit-mrelease',
    ]) {
      const t = doc.tables.find((x) => x.id === id)!;
      expect(t.columns).toEqual([
        'era',
        'exit_mmap locking',
        'rw_semaphore; VMA container',
        'iterations/round',
        'p50 µs (median)',
        'p50 spread µs',
        'p95 µs',
        'p99 µs',
        '÷ v4.17',
      ]);
      expect(t.rows.map((row) => row[0])).toEqual(eras);
      expect(t.rows[0]!.at(-1)).toBe('1');
      expect(t.rows[1]![1]).toBe('mmap_write_lock across the teardown');
    }
    // The v6.1 row changes the VMA container too: the notes say the ratio is not the lock alone.
    expect(doc.notes.some((n) => /not the lock cost alone/.test(n))).toBe(true);
    expect(doc.notes.some((n) => /^exit: v5\.17 [+-]\d+\.\d% at p50 over v4\.17/.test(n))).toBe(true);

    const csv = readFileSync(join(dir, 'samples.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(doc.samples.length + 1);
    const svg = (f: string) => svgTexts(join(dir, f));
    const p50 = svg('exit-cost-p50.svg');
    for (const t of ['p50 (µs)', 'exit', 'fork-exit', ...eras]) expect(p50, t).toContain(t);
    const ratio = svg('exit-cost-ratio.svg');
    for (const t of ['p50 ÷ v4.17', 'published: Suren 2021: +1.6%', 'published: Kirill 2017: ~4%'])
      expect(ratio, t).toContain(t);
    const html = parseDocument(readFileSync(join(dir, 'index.html'), 'utf8'));
    const ids = DomUtils.findAll((e) => e.name === 'table' || e.name === 'figure', html.children).map(
      (e) => e.attribs.id,
    );
    expect(ids).toEqual(
      expect.arrayContaining([
        'table-exit-cost-exit',
        'table-exit-cost-fork-exit',
        'table-exit-cost-exit-mrelease',
        'figure-exit-cost-p50',
        'figure-exit-cost-ratio',
      ]),
    );
  });
});
