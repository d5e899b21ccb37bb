// Snapshot after setup changes nothing a campaign reports: the same verdicts, hit counts, failing
// schedules, explored DFS space and replays with snapshots on (the default) and off
// (MMRACE_SNAPSHOT=0: setup before every run), each restore checked word for word against the
// snapshot. Controlled runs are deterministic, so these are exact.
import { afterEach, describe, expect, it } from 'vitest';
import { json, mmrace } from './helpers/cli.js';

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
  // Snapshots on: every restore is also checked against the whole snapshot (restore_extent.test.ts).
  if (snapshot) {
    delete process.env.MMRACE_SNAPSHOT;
    process.env.MMRACE_SNAPSHOT_CHECK = '1';
  } else {
    process.env.MMRACE_SNAPSHOT = '0';
    delete process.env.MMRACE_SNAPSHOT_CHECK;
  }
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
  delete process.env.MMRACE_SNAPSHOT_CHECK;
});

describe('snapshots on and off', () => {
  // Deterministic: seed 1's first hit is run 10 of 50 (4 hits); PCT seed 3's is run 8 (10 hits).
  const randomArgs = [
    'repro',
    ID,
    '--variant',
    'v4.14',
    '--strategy',
    'random',
    '--seed',
    '1',
    '--runs',
    '50',
  ];
  let random: Row | undefined;

  it('random and PCT on v4.14: the same hits, first failing seed and schedule', () => {
    random = same(randomArgs);
    expect(random.hits).toBeGreaterThan(0);
    expect(random.schedule).not.toBeNull();
    const pct = same(['repro', ID, '--variant', 'v4.14', '--strategy', 'pct', '--seed', '3', '--runs', '50']);
    expect(pct.hits).toBeGreaterThan(0);
  }, 120_000);

  it('a failing schedule replays the same way with snapshots on and off', () => {
    const failing = random ?? row(randomArgs, true);
    const replay = same(['replay', ID, failing.schedule!, '--variant', 'v4.14', '--runs', '3']);
    expect(replay.hits).toBe(3);
    expect(replay.firstHit!.summary).toBe(failing.firstHit!.summary);
  }, 120_000);

  // The path DFS takes depends on every run's state: the same schedules in the same order up to the
  // same first failing one (61 of them with 1 preemption). The whole clean space of v4.15 with
  // snapshots on is controlled.test.ts's.
  it('DFS with bound 1 on v4.14 explores the same schedules up to the same first failing one', () => {
    const args = ['repro', ID, '--variant', 'v4.14', '--strategy', 'dfs', '--preemptions', '1'];
    const dfs = same([...args, '--stop-on-hit', '--runs', '100000']);
    expect(dfs).toMatchObject({ observed: 'reproduces', hits: 1 });
    expect(dfs.explored).toBeGreaterThan(20);
    expect(dfs.explored).toBe(dfs.runs);
  }, 120_000);

  it('a per-VMA lock scenario under PCT: the same verdict and hits', () => {
    const args = ['repro', 'vma-lock-jann-uaf', '--strategy', 'pct', '--seed', '1', '--runs', '100'];
    const r = same(args);
    expect(r.runs).toBeGreaterThan(0);
  }, 120_000);
});
