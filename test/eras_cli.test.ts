// `mmrace eras` and the era matrix (`--eras`): every era profile listed with its commits, one
// verdict row per era graded against the scenario's expectFailIn, bad era lists refused (exit 2),
// a mismatch is exit 1. Runs are few and seeded: controlled mode where a verdict must be exact.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { matrixRuns } from '../src/cli/era_matrix.js';
import { ERAS } from '../src/eras/index.js';
import { compareReleases, erasInReleaseOrder } from '../src/scenarios/era_matrix.js';
import { expectOneLine, json, mmrace, mmraceAlone } from './helpers/cli.js';

const ID = 'oom-reaper-vs-exit-mmap-2017';
const root = fileURLToPath(new URL('../', import.meta.url));
const inOrder = erasInReleaseOrder().map((e) => e.name);
/** The 2017 scenario's expectation: a failure in v4.14 only. */
const expected2017 = (era: string) => (era === 'v4.14' ? 'reproduces' : 'clean');

interface Row {
  id: string;
  variant: string;
  era: string;
  expected: string;
  observed: string;
  ok: boolean;
  runs: number;
  hits: number;
}
interface MatrixJson {
  ok: boolean;
  eras: string[];
  runsPerEra: number;
  rows: Row[];
}

describe('mmrace eras', { timeout: 60_000 }, () => {
  it('lists every era in release order with its commits and choices', () => {
    const r = mmrace(['eras']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const heads = r.stdout.split('\n').filter((l) => /^\S/.test(l));
    expect(heads.map((l) => l.split(/\s+/)[0])).toEqual(inOrder);
    for (const e of ERAS) {
      expect(r.stdout).toContain(`${e.name}  ${e.release}  ${e.summary}`);
      for (const c of e.commits) expect(r.stdout).toContain(`${c.id} ${c.subject}`);
      expect(r.stdout).toContain(e.rwsem.name);
      expect(r.stdout).toContain(`  vmas      ${e.vma.name}`);
      for (const f of Object.values(e.mm)) expect(r.stdout).toContain(f.name);
    }
    expect(r.stdout).toContain('exit_mmap_v4_14');
    expect(r.stdout).toContain('exit_mmap_v4_15');
  });

  it('--json: one object per era, as the profiles say', () => {
    const r = mmrace(['eras', '--json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as {
      name: string;
      release: string;
      commits: { id: string; subject: string }[];
      mm: Record<string, string>;
      rwsem: string;
      vma: string;
      rcu: { set: string | null; functions: Record<string, string> };
      pgtableFree: { set: string | null; functions: Record<string, string> };
    }[];
    expect(list.map((e) => e.name)).toEqual(inOrder);
    for (const e of ERAS) {
      const x = list.find((y) => y.name === e.name)!;
      expect(x.release).toBe(e.release);
      expect(x.commits).toEqual(e.commits.map((c) => ({ id: c.id, subject: c.subject })));
      expect(x.commits.length).toBeGreaterThan(0);
      expect(x.mm).toEqual(Object.fromEntries(Object.entries(e.mm).map(([k, f]) => [k, f.name])));
      expect(x.rwsem).toBe(e.rwsem.name);
      expect(x.vma).toBe(e.vma.name);
      expect(Object.keys(x.rcu.functions)).toEqual(Object.keys(e.rcu));
      expect(Object.keys(x.pgtableFree.functions)).toEqual(['tlb_remove_table', 'tlb_table_flush']);
    }
    expect(list.find((e) => e.name === 'v4.14')).toMatchObject({
      mm: { exit_mmap: 'exit_mmap_v4_14' },
      rcu: { set: 'RCU_FLAVOURS_V4_14' },
      pgtableFree: { set: 'RCU_TABLE_FREE_V4_14' },
    });
  });

  it('release order is by the release numbers', () => {
    expect(compareReleases('4.14.0', '4.15.0')).toBeLessThan(0);
    expect(compareReleases('4.17.0', '4.9.0')).toBeGreaterThan(0);
    expect(compareReleases('6.1.0', '5.18.0-rc1')).toBeGreaterThan(0);
    for (let i = 1; i < inOrder.length; i++) {
      const [a, b] = [ERAS.find((e) => e.name === inOrder[i - 1])!, ERAS.find((e) => e.name === inOrder[i])!];
      expect(compareReleases(a.release, b.release)).toBeLessThanOrEqual(0);
    }
  });

  it('eras <names> shows those; help eras is usage', async () => {
    const r = mmrace(['eras', 'v4.15,v4.14+PARAVIRT=n', '--json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as { name: string; config: { PARAVIRT: boolean } }[];
    expect(list.map((e) => [e.name, e.config.PARAVIRT])).toEqual([
      ['v4.15', true],
      ['v4.14+PARAVIRT=n', false],
    ]);
    const h = mmrace(['help', 'eras']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/Usage: mmrace eras \[options\] \[eras\]/);
    expect(h.stdout).toMatch(/--json/);
    expectOneLine(
      await mmraceAlone(['eras', 'v4.16']),
      2,
      /^mmrace: eras: unknown era 'v4.16' \(Did you mean/,
    );
  });
});

describe('--eras: bad lists are one line and exit 2, before any run', { timeout: 60_000 }, () => {
  it.each([
    [
      ['repro', ID, '--eras', 'v4.16'],
      /^mmrace: --eras: unknown era 'v4.16' \(Did you mean v4\.\d+\?\); known eras: /,
    ],
    [['repro', ID, '--eras', 'v4.14,nope'], /^mmrace: --eras: unknown era 'nope'; known eras: /],
    [['repro', ID, '--eras', ''], /^mmrace: --eras needs era names \(known: /],
    [['repro', ID, '--eras', ' , '], /^mmrace: --eras needs era names/],
    [['repro', ID, '--eras', 'v4.14', '--variant', 'v4.15-fixed'], /has no variant 'v4.15-fixed'/],
    [
      ['run', 'test/fixtures/abba.mjs', '--eras', 'all'],
      /scenario abba has variants any, rendezvous, ordered: with --eras, name the one to run on every era/,
    ],
  ])('%j', async (args, message) => {
    const r = await mmraceAlone(args);
    expectOneLine(r, 2, message);
    expect(r.stdout).toBe('');
    if (String(args[3]).startsWith('v4.16')) for (const e of ERAS) expect(r.stderr).toContain(e.name);
  });
});

// Runs on 2 shared cores: a matrix over every era takes seconds.
describe('the era matrix of the 2017 scenario', { timeout: 60_000 }, () => {
  it('v4.14,v4.15 (controlled, seeded): reproduces in v4.14, clean in v4.15; the failing row replays on its era', () => {
    // PCT, 20 seeded runs: 3 or 4 hit in v4.14 (seeds 1-3) as the kernel code is today.
    const r = mmrace(['repro', ID, '--eras', 'v4.14,v4.15', '--strategy', 'pct', '--runs', '20']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^era matrix: 2 eras, 20 runs per era, seed 1, controlled mode \(pct\)$/m);
    expect(r.stdout).toMatch(/^v4\.14 +4\.14\.0 +20 +[1-9]\d* +reproduces +reproduces +yes /m);
    expect(r.stdout).toMatch(/^v4\.15 +4\.15\.0 +20 +0 +clean +clean +yes /m);
    expect(r.stdout).toContain('every era as expected (2 eras)');
    const m = /replay it: mmrace repro \S+ --eras v4\.14 --replay '(S1:3:\w+)' --variant v4\.14/.exec(
      r.stdout,
    );
    expect(m).not.toBeNull();
    const again = mmrace([
      'repro',
      ID,
      '--eras',
      'v4.14',
      '--replay',
      m![1]!,
      '--variant',
      'v4.14',
      '--json',
    ]);
    expect(again.code).toBe(0);
    const out = json<MatrixJson>(again);
    expect(out).toMatchObject({ ok: true, eras: ['v4.14'], runsPerEra: 1 });
    expect(out.rows[0]).toMatchObject({
      era: 'v4.14',
      variant: 'v4.14',
      expected: 'reproduces',
      observed: 'reproduces',
      ok: true,
      runs: 1,
    });
  });

  it('every era (human form): one row per era in release order, each as the scenario expects', () => {
    const r = mmrace(['repro', ID, '--eras', 'all', '--runs', '12', '--seed', '3']);
    const rows = r.stdout
      .split('\n')
      .map((l) => l.split(/\s{2,}/))
      .filter((c) => inOrder.includes(c[0]!));
    expect(rows.map((c) => c[0])).toEqual(inOrder);
    for (const c of rows) {
      // era, release, runs, hits, expected, verdict, match
      expect(c.slice(2, 7)).toEqual([
        '12',
        expect.any(String),
        expected2017(c[0]!),
        expected2017(c[0]!),
        'yes',
      ]);
    }
    expect(r.stdout).toMatch(/^era matrix: \d+ eras?, 12 runs per era, seed 3, free mode$/m);
    expect(r.stdout).toMatch(/^era +release +runs +hits +expected +verdict +match/m);
    expect(r.stdout).toContain(`every era as expected (${inOrder.length} era`);
    expect(r.code).toBe(0);
  });

  it('mmrace with no command is the matrix of every scenario over every era', () => {
    // Two eras every built-in scenario expects clean (3 runs cannot be relied on to hit a bug).
    const r = mmrace(['--eras', 'v6.6,v6.15', '--runs', '3', '--json']);
    expect(r.code).toBe(0);
    const out = json<MatrixJson>(r);
    // Every built-in scenario (`list`: inDefaultRun), the 2017 one first, each on both eras.
    const builtin = (
      JSON.parse(mmrace(['list', '--json']).stdout) as {
        id: string;
        inDefaultRun: boolean;
        expectFailIn: string[] | null;
      }[]
    ).filter((s) => s.inDefaultRun);
    expect(builtin[0]!.id).toBe(ID);
    expect(out.rows.map((x) => [x.id, x.era, x.expected])).toEqual(
      builtin.flatMap((s) =>
        ['v6.6', 'v6.15'].map((era) => [s.id, era, s.expectFailIn?.includes(era) ? 'reproduces' : 'clean']),
      ),
    );
    expect(out.rows.slice(0, 2).map((x) => [x.id, x.era, x.expected])).toEqual([
      [ID, 'v6.6', 'clean'],
      [ID, 'v6.15', 'clean'],
    ]);
  });

  it('without --runs, a large matrix lowers its runs per era to fit the budget', () => {
    expect(matrixRuns(200, 4)).toBe(200);
    expect(matrixRuns(200, 40)).toBe(25);
    expect(matrixRuns(200, 10_000)).toBe(10);
  });

  it('list shows where the scenario expects a failure', () => {
    const list = JSON.parse(mmrace(['list', '--json']).stdout) as { id: string; expectFailIn: string[] }[];
    expect(list.find((s) => s.id === ID)?.expectFailIn).toEqual(['v4.14']);
    expect(mmrace(['list']).stdout).toContain('expected to fail in: v4.14 (every other era: clean)');
  });
});

describe("a user's scenario file declaring expectFailIn", { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmrace-eras-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'mmrace'), 'dir');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A program that WARNs on the eras in `fails`, with `expectFailIn: expect` (and `extra` fields). */
  function scenarioFile(name: string, fails: string[], expectFailIn: string[], variants?: string): string {
    const file = join(dir, name);
    writeFileSync(
      file,
      [
        "import { defineScenario, spawnTask, WARN } from 'mmrace';",
        `const FAILS = ${JSON.stringify(fails)};`,
        'export const scenario = defineScenario({',
        "  id: 'era-bug', title: 'fails in some eras', refs: [], description: 'test',",
        `  variants: ${variants ?? "[{ name: 'any', era: 'v4.15', expected: 'clean' }]"},`,
        `  expectFailIn: ${JSON.stringify(expectFailIn)},`,
        "  globals: ['t', 'buggy'],",
        "  cpus: [{ name: 'cpu0', task: 't', run: (g) => { if (g.buggy) WARN('era_bug', 'the era has the bug'); } }],",
        '  setup(g, variant) {',
        "    g.t = spawnTask('t');",
        "    g.buggy = FAILS.includes(variant.era.split('+')[0]) ? 1 : 0;",
        '  },',
        '});',
        '',
      ].join('\n'),
    );
    return file;
  }

  it('is honoured: the eras it lists expect a failure, the others clean (exit 0)', () => {
    const file = scenarioFile('honoured.mjs', ['v4.14', 'v6.6'], ['v4.14', 'v6.6']);
    const r = mmrace(['run', file, '--eras', 'all', '--runs', '2', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = json<MatrixJson>(r).rows;
    expect(rows.map((x) => x.era)).toEqual(inOrder);
    for (const x of rows) {
      const want = ['v4.14', 'v6.6'].includes(x.era) ? 'reproduces' : 'clean';
      expect([x.era, x.variant, x.expected, x.observed]).toEqual([x.era, 'any', want, want]);
    }
  });

  it('an era that differs from the expectation is exit 1, and the table says which', () => {
    const file = scenarioFile('mismatch.mjs', ['v4.14'], ['v6.6']);
    const r = mmrace(['run', file, '--eras', 'v4.14,v4.15,v6.6', '--runs', '2']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^v4\.14 +4\.14\.0 +2 +2 +clean +reproduces +NO/m);
    expect(r.stdout).toMatch(/^v4\.15 +4\.15\.0 +2 +0 +clean +clean +yes/m);
    expect(r.stdout).toMatch(/^v6\.6 +6\.6\.0 +2 +0 +reproduces +clean +NO/m);
    expect(r.stdout).toContain(
      '2 of 3 eras differ from the expectation: v4.14 (expected clean, reproduces), v6.6 (expected reproduces, clean)',
    );
  });

  it('an era with another .config is listed by its base era', () => {
    const file = scenarioFile('config.mjs', ['v4.14'], ['v4.14']);
    const r = mmrace(['run', file, '--eras', 'v4.14+PARAVIRT=n', '--runs', '1', '--json']);
    expect(r.code).toBe(0);
    expect(json<MatrixJson>(r).rows[0]).toMatchObject({ era: 'v4.14+PARAVIRT=n', expected: 'reproduces' });
  });

  it.each([
    [
      'unknown.mjs',
      ['v4.16'],
      undefined,
      /expectFailIn\[0\]: unknown era 'v4.16' \(did you mean 'v4\.\d+'\? known: /,
    ],
    ['dup.mjs', ['v4.14', 'v4.14'], undefined, /expectFailIn: duplicate era 'v4.14'/],
    [
      'contradiction.mjs',
      ['v4.14'],
      "[{ name: 'v4.14', era: 'v4.14', expected: 'clean' }]",
      /variants\[0\]\.expected: 'clean', but expectFailIn lists v4\.14 \(a variant named after its era must agree/,
    ],
  ])('%s is refused: one line, exit 2', async (name, expectFailIn, variants, message) => {
    const file = scenarioFile(name, [], expectFailIn, variants);
    const r = await mmraceAlone(['run', file, '--eras', 'all', '--runs', '1']);
    expectOneLine(r, 2, message);
  });
});
