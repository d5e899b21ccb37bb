// The command line: exit codes, bad input, list and JSON shape.
import { describe, expect, it } from 'vitest';
import { json, mmrace } from './helpers/cli.js';

const ID = 'oom-reaper-vs-exit-mmap-2017';

describe('mmrace command line', () => {
  it.each([
    [['repro', 'no-such-scenario'], /unknown scenario 'no-such-scenario'/],
    [['repro', ID, '--variant', 'v9.99'], /has no variant 'v9.99'/],
    [['repro', ID, '--variant', 'v4.14,v9.99'], /has no variant 'v9.99'/],
    [['repro', ID, '--variant', 'v4.14,'], /has an empty name in --variant 'v4.14,'/],
    [['repro', ID, '--variant', 'v4.14,v4.15', '--eras', 'all'], /--eras runs one --variant/],
    [['repro', ID, '--runs', 'abc'], /--runs <n>' argument 'abc' is invalid/],
    [['repro', ID, '--runs', '0'], /--runs <n>' argument '0' is invalid/],
    [['repro', ID, '--runs', '1e3'], /argument '1e3' is invalid/],
    [['repro', ID, '--seed', '-1'], /--seed <s>' argument '-1' is invalid/],
    [['repro', ID, '--cpus', '99'], /--cpus <n>' argument '99' is invalid/],
    [['repro', ID, '--cpus', '2'], /needs 3 CPUs/],
    [['--frobnicate'], /unknown option '--frobnicate'/],
    [['run', 'test/fixtures/does-not-exist.mjs'], /no such scenario file/],
    [['run', 'README.md'], /must be JavaScript modules/],
    [['run', 'package.json'], /must be JavaScript modules/],
  ])('%j is one line on stderr and exit 2', (args, message) => {
    const r = mmrace(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.stdout).toBe('');
  });

  it('a scenario file that exports no scenario is bad input', () => {
    const r = mmrace(['run', 'test/fixtures/not-a-scenario.mjs']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not export a scenario/);
  });

  it('--help and --version exit 0', () => {
    expect(mmrace(['--help']).code).toBe(0);
    const help = mmrace(['repro', '--help']).stdout;
    expect(help).toMatch(/--variant/);
    expect(help).toMatch(/--eras <list>/);
    expect(mmrace(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('list names the scenario and its variants, also as JSON', () => {
    const r = mmrace(['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(ID);
    const list = JSON.parse(mmrace(['list', '--json']).stdout) as {
      id: string;
      variants: { name: string }[];
    }[];
    const s = list.find((x) => x.id === ID);
    expect(s?.variants.map((v) => v.name)).toEqual(['v4.14', 'v4.15']);
    // the long-running scenarios `repro` finds are listed too, marked as outside the default run
    const soak = list.find((x) => x.id === 'vma-lock-soak') as { inDefaultRun?: boolean } | undefined;
    expect(soak?.inDefaultRun).toBe(false);
    expect(r.stdout).toContain('teardown-soak (run it with `mmrace repro`; not in the default run)');
  });

  it('--json rows carry the fields scripts read', () => {
    const r = mmrace(['repro', ID, '--variant', 'v4.15', '--runs', '20', '--seed', '9', '--json']);
    expect(r.code).toBe(0);
    const out = json(r);
    expect(out.ok).toBe(true);
    const row = out.rows[0]!;
    for (const k of ['id', 'variant', 'expected', 'observed', 'runs', 'hits', 'runsPerSec', 'seed']) {
      expect(row).toHaveProperty(k);
    }
    expect(row).toMatchObject({
      id: ID,
      variant: 'v4.15',
      expected: 'clean',
      observed: 'clean',
      runs: 20,
      seed: 9,
    });
  });
});
