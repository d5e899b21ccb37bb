// Snapshot after setup changes nothing a campaign reports: the same verdicts, hit counts, failing
// schedules, explored DFS space and replays with snapshots on (the default) and off
// (MMRACE_SNAPSHOT=0: setup before every run). Controlled runs are deterministic, so these are exact.
import { afterEach, describe, expect, it } from 'vitest';
import { json, mmrace } from './helpers/cli.js';
import { DFS_V415_BOUND1 } from './helpers/dfs_args.js';

const ID = 'oom-reaper-vs-exit-mmap-2017';

type Row = {
  observed: string;
  runs: number;
  hits: number;
  checkFailures: number;
  firstHitSeed: number | null;
  schedule: string | null;
  explored: number;
  firstHit: { summary: string } | null;
  error: string | null;
};

/** What must not depend on how runs get their initial state. */
function verdict(r: Row) {
  const { observed, runs, hits, checkFailures, firstHitSeed, schedule, explored, error } = r;
  return {
    observed,
    runs,
    hits,
    checkFailures,
    firstHitSeed,
    schedule,
    explored,
    error,
    summary: r.firstHit?.summary,
  };
}

function rows(args: string[], snapshot: boolean): Row[] {
  if (snapshot) delete process.env.MMRACE_SNAPSHOT;
  else process.env.MMRACE_SNAPSHOT = '0';
  const r = mmrace([...args, '--json'], 120_000);
  expect(r.stderr).toBe('');
  return json<{ rows: Row[] }>(r).rows;
}

const row = (args: string[], snapshot: boolean): Row => rows(args, snapshot)[0]!;

/** The first row with snapshots on, every row checked equal to the rows with them off. */
function same(args: string[]): Row {
  const on = rows(args, true);
  expect(on.map(verdict)).toEqual(rows(args, false).map(verdict));
  return on[0]!;
}

afterEach(() => {
  delete process.env.MMRACE_SNAPSHOT;
});

describe('snapshots on and off', () => {
  it('random and PCT on v4.14: the same hits, first failing seed and schedule', () => {
    const random = same([
      'repro',
      ID,
      '--variant',
      'v4.14',
      '--strategy',
      'random',
      '--seed',
      '1',
      '--runs',
      '150',
    ]);
    expect(random.hits).toBeGreaterThan(0);
    expect(random.schedule).not.toBeNull();
    const pct = same([
      'repro',
      ID,
      '--variant',
      'v4.14',
      '--strategy',
      'pct',
      '--seed',
      '3',
      '--runs',
      '150',
    ]);
    expect(pct.hits).toBeGreaterThan(0);
  }, 120_000);

  it('a failing schedule replays the same way with snapshots on and off', () => {
    const failing = row(
      ['repro', ID, '--variant', 'v4.14', '--strategy', 'random', '--seed', '1', '--runs', '150'],
      true,
    );
    const replay = same(['replay', ID, failing.schedule!, '--variant', 'v4.14', '--runs', '3']);
    expect(replay.hits).toBe(3);
    expect(replay.firstHit!.summary).toBe(failing.firstHit!.summary);
  }, 120_000);

  it('DFS with bound 1 on v4.15 explores the same space, clean', () => {
    const dfs = same(DFS_V415_BOUND1);
    expect(dfs).toMatchObject({ observed: 'clean', hits: 0 });
    expect(dfs.explored).toBeGreaterThan(1000);
  }, 120_000);

  it('a per-VMA lock scenario under PCT: the same verdict and hits', () => {
    const args = ['repro', 'vma-lock-jann-uaf', '--strategy', 'pct', '--seed', '1', '--runs', '100'];
    const r = same(args);
    expect(r.runs).toBeGreaterThan(0);
  }, 120_000);
});
