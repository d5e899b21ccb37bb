// RCU-sched on real worker threads and in controlled mode, through the built CLI
// (test/fixtures/rcu-sched.mjs): a v4.14 synchronize_sched() waits for a CPU holding a spinlock,
// a seeded RCU-sched grace period that ignores preempt counts is caught, and a v4.14 plain
// synchronize_rcu() does not wait for the holder.
import { describe, expect, it } from 'vitest';
import { json, mmrace } from './helpers/cli.js';

type Row = {
  observed: string;
  hits: number;
  runs: number;
  firstHit: { summary: string } | null;
  error: string | null;
};

function run(variant: string, runs: number, extra: string[] = []): Row {
  const r = mmrace(
    ['run', 'test/fixtures/rcu-sched.mjs', '--variant', variant, '--runs', String(runs), '--json', ...extra],
    60_000,
  );
  const row = json<{ rows: Row[] }>(r).rows[0]!;
  expect(row.error).toBeNull();
  expect(r.code).toBe(0); // observed === expected
  return row;
}

describe('RCU-sched on 2 CPUs (a spinlock holder, a grace period)', () => {
  it('v4.14 synchronize_sched() waits for the spinlock holder (free mode)', { timeout: 30_000 }, () => {
    expect(run('sched', 5)).toMatchObject({ observed: 'clean', hits: 0, runs: 5 });
  });

  it('catches an RCU-sched grace period that ignores preempt counts (free mode)', { timeout: 30_000 }, () => {
    const row = run('sched-busted', 5);
    expect(row.observed).toBe('reproduces');
    expect(row.firstHit?.summary).toBe('BUG: synchronize_sched returned during a preempt-disabled region');
  });

  it('v4.14 synchronize_rcu() does not wait for it (free mode)', { timeout: 30_000 }, () => {
    expect(run('rcu-v4.14', 5)).toMatchObject({ observed: 'clean', hits: 0 });
  });

  it('controlled mode: the same verdicts, without livelock', { timeout: 30_000 }, () => {
    const ctl = ['--mode', 'controlled', '--strategy', 'random'];
    expect(run('sched', 20, ctl)).toMatchObject({ observed: 'clean', hits: 0, runs: 20 });
    expect(run('sched-busted', 20, ctl).observed).toBe('reproduces');
    expect(run('rcu-v4.14', 20, ctl)).toMatchObject({ observed: 'clean', hits: 0 });
  });
});
