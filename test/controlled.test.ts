// Controlled mode through the CLI: one CPU at a time, a strategy picks who runs at every point.
// Controlled runs are deterministic given the seed, so these numbers are exact, not rates:
// measured on a 2-core host, PCT (d=2) hits the 2017 v4.14 race in 3 of the first 20 runs with
// --seed 1 (first at run 0) and in 25 of 200 runs (12.5%) for seeds 1..5; the failing schedule
// replays 100 times out of 100; bounded DFS with 1 preemption explores the whole v4.15 space
// (2022 schedules, ~2 s with run-ahead, 15-25 s without) and finds nothing. Bound 2 (190 267
// schedules, ~2.5 min) is measured from the CLI, not here.
import { describe, expect, it } from 'vitest';
import { expectUsageError, json, mmrace } from './helpers/cli.js';
import { DFS_V415_BOUND1 } from './helpers/dfs_args.js';

const ID = 'oom-reaper-vs-exit-mmap-2017';

type Row = {
  observed: string;
  hits: number;
  runs: number;
  checkFailures: number;
  mode: string;
  strategy: string | null;
  schedule: string | null;
  explored: number;
  firstHit: { summary: string; dmesg: string[] } | null;
  error: string | null;
};

const row = (args: string[], timeoutMs?: number, stderr = /^$/): Row => {
  const r = mmrace(args, timeoutMs);
  expect(r.stderr).toMatch(stderr);
  expect(r.code).toBe(0);
  return json<{ rows: Row[] }>(r).rows[0]!;
};

describe('controlled mode, 2017 oom_reaper vs exit_mmap', () => {
  let schedule = '';

  it('pct (depth 2) finds the v4.14 failure and prints its schedule', () => {
    const args = ['repro', ID, '--variant', 'v4.14', '--mode', 'controlled', '--strategy', 'pct'];
    const r = row([...args, '--depth', '2', '--runs', '50', '--seed', '1', '--json']);
    expect(r).toMatchObject({ observed: 'reproduces', mode: 'controlled', strategy: 'pct', error: null });
    expect(r.hits).toBeGreaterThan(0);
    expect(r.schedule).toMatch(/^S1Z?:3:/);
    schedule = r.schedule!;
    const text = mmrace([...args, '--depth', '2', '--runs', '50', '--seed', '1']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`--- schedule of the first failing run: ${schedule}`);
  });

  it('the printed schedule replays the failure 100 times out of 100', () => {
    expect(schedule).not.toBe('');
    const r = row(['repro', ID, '--variant', 'v4.14', '--replay', schedule, '--runs', '100', '--json']);
    expect(r).toMatchObject({
      observed: 'reproduces',
      runs: 100,
      hits: 100,
      strategy: 'replay',
      error: null,
    });
    expect(r.schedule).toBe(schedule);
    // The shortcut, in a fresh process: the same hit.
    const s = row(['replay', ID, schedule, '--variant', 'v4.14', '--json']);
    expect(s).toMatchObject({ observed: 'reproduces', runs: 1, hits: 1, schedule });
    expect(s.firstHit!.summary).toBe(r.firstHit!.summary);
  });

  it('v4.15 is clean over the whole dfs space with preemption bound 1, and says how much it explored', () => {
    const args = DFS_V415_BOUND1;
    const r = row([...args, '--json'], 170_000);
    expect(r).toMatchObject({ observed: 'clean', hits: 0, checkFailures: 0, strategy: 'dfs', error: null });
    expect(r.explored).toBeGreaterThan(100);
    expect(r.explored).toBe(r.runs);
    expect(r.runs).toBeLessThan(100000); // dfs ended the campaign: the space is exhausted
  }, 180_000);
});

describe('controlled mode, rw_semaphore stress fixture (random strategy)', () => {
  it('the correct rwsem is clean', () => {
    const r = row([
      'run',
      'test/fixtures/rwsem-stress.mjs',
      '--variant',
      'correct',
      '--mode',
      'controlled',
      '--strategy',
      'random',
      '--runs',
      '1',
      '--json',
    ]);
    expect(r).toMatchObject({ observed: 'clean', hits: 0, checkFailures: 0, runs: 1, mode: 'controlled' });
  }, 60_000);

  it('the busted rwsem reproduces, with a replayable schedule', () => {
    const args = ['run', 'test/fixtures/rwsem-stress.mjs', '--variant', 'busted'];
    const r = row([...args, '--mode', 'controlled', '--strategy', 'random', '--runs', '1', '--json']);
    expect(r).toMatchObject({ observed: 'reproduces', hits: 1, runs: 1 });
    expect(r.firstHit!.summary).toMatch(/^BUG: rwsem exclusion violated/);
    const again = row([...args, '--replay', r.schedule!, '--json']);
    expect(again).toMatchObject({ observed: 'reproduces', hits: 1, schedule: r.schedule });
  }, 60_000);
});

describe('controlled-mode flags', () => {
  const bad: [string, string[]][] = [
    ['unknown strategy', ['--strategy', 'bogus']],
    ['unknown mode', ['--mode', 'fast']],
    ['negative depth', ['--strategy', 'pct', '--depth', '-1']],
    ['negative preemption bound', ['--strategy', 'dfs', '--preemptions', '-2']],
    ['malformed schedule', ['--replay', 'not a schedule']],
    ['wrong schedule version', ['--replay', 'S9:3:a5b2']],
    ['schedule for another CPU count', ['--replay', 'S1:2:a5b2']],
    ['strategy in free mode', ['--mode', 'free', '--strategy', 'pct']],
    ['replay with another strategy', ['--strategy', 'pct', '--replay', 'S1:3:a5']],
  ];
  for (const [what, flags] of bad) {
    it(`${what}: one line on stderr, exit 2`, () => {
      expectUsageError(['repro', ID, '--variant', 'v4.14', ...flags]);
    });
  }

  it('mmrace replay with a malformed schedule: exit 2', () => {
    const r = mmrace(['replay', ID, 'S1:3:zz']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('replay divergence', () => {
  // A prefix of a failing v4.14 schedule: the run goes on past its 36 decisions.
  const prefix = 'S1:3:b6a28c2';

  it('strict (the default): the divergence is reported as the row error, exit 3', () => {
    const r = mmrace(['replay', ID, prefix, '--variant', 'v4.14', '--json']);
    expect(r.code).toBe(3);
    const x = json<{ rows: Row[] }>(r).rows[0]!;
    expect(x.error).toBe(
      "controlled run stopped: run 0: schedule diverged: the run went on past the schedule's 36 decisions",
    );
  });

  it('--on-divergence continue goes on without preempting and prints the whole schedule it ran', () => {
    const args = ['replay', ID, prefix, '--variant', 'v4.14', '--on-divergence', 'continue', '--json'];
    // Going on past the schedule is a divergence, and stderr says where.
    const r = row(
      args,
      undefined,
      new RegExp(`^mmrace: ${ID} v4.14: run 0 left the schedule: the run went on past`),
    );
    expect(r).toMatchObject({ observed: 'reproduces', hits: 1, error: null });
    expect(r.schedule!.startsWith(prefix)).toBe(true);
    expect(r.schedule!.length).toBeGreaterThan(prefix.length);
  });

  it('--on-divergence without --replay: one line, exit 2', () => {
    const r = mmrace(['repro', ID, '--on-divergence', 'random']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('mmrace: --on-divergence is for --replay\n');
  });
});
