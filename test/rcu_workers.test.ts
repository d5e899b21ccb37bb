// RCU on real worker threads, through the built CLI: synchronize_rcu() against a pre-existing
// reader and against readers that start after it (test/fixtures/rcu-gp.mjs), and call_rcu(),
// kfree_rcu(), rcu_barrier(), rcu_gp_kthread() and SLAB_TYPESAFE_BY_RCU under concurrent readers
// (test/fixtures/rcu-callbacks.mjs). Each fixture states its hit-rate bound for the broken variants.
// The fixtures reach into RCU's internals (reader slots, callbacks invoked), which only the
// compiled modules export: the command runs from them (helpers/cli.ts mmraceDist()).
import { describe, expect, it } from 'vitest';
import { json, mmraceDist } from './helpers/cli.js';

type Row = {
  variant: string;
  observed: string;
  hits: number;
  runs: number;
  checkFailures: number;
  firstHit: { summary: string; dmesg: string[] } | null;
  firstCheckFailure: { check: string; detail: string } | null;
  error: string | null;
};

function run(fixture: string, variant: string, runs: number): Row {
  const r = mmraceDist(
    ['run', `test/fixtures/${fixture}`, '--variant', variant, '--runs', String(runs), '--json'],
    30_000,
  );
  const row = json<{ rows: Row[] }>(r).rows[0]!;
  expect(row.error).toBeNull();
  expect(r.code).toBe(0); // observed === expected
  return row;
}

describe('synchronize_rcu on 4 CPUs (pre-existing reader, writer, two late readers)', () => {
  it('waits for the pre-existing reader, and readers that began after it do not hold it up', () => {
    const row = run('rcu-gp.mjs', 'correct', 5);
    expect(row).toMatchObject({ observed: 'clean', hits: 0, checkFailures: 0, runs: 5 });
  });

  it('catches a synchronize_rcu that returns without waiting for readers', () => {
    const row = run('rcu-gp.mjs', 'busted', 24); // bound: see the fixture
    expect(row.observed).toBe('reproduces');
    expect(row.firstHit?.summary).toBe('BUG: synchronize_rcu returned during a pre-existing reader');
  });

  it('catches a synchronize_rcu that also waits for readers that began after it', { timeout: 20_000 }, () => {
    const row = run('rcu-gp.mjs', 'greedy', 1);
    expect(row.observed).toBe('reproduces');
    expect(row.firstHit?.summary).toBe('BUG: synchronize_rcu waited for readers that began after it');
  });
});

describe('RCU callbacks on 4 CPUs (2 readers, an updater, rcu_gp_kthread)', () => {
  it('runs call_rcu and kfree_rcu callbacks only after a grace period, every one of them', () => {
    const row = run('rcu-callbacks.mjs', 'call_rcu', 4);
    expect(row).toMatchObject({ observed: 'clean', hits: 0, checkFailures: 0, runs: 4 });
  });

  it('catches freeing without a grace period (KASAN or the reader identity check)', () => {
    const row = run('rcu-callbacks.mjs', 'immediate-free', 30); // bound: see the fixture
    expect(row.observed).toBe('reproduces');
    expect(row.firstHit?.summary).toMatch(
      /^BUG: (KASAN: slab-use-after-free|RCU reader saw its object freed or reused)/,
    );
  });

  it('lets SLAB_TYPESAFE_BY_RCU objects be reused at once without KASAN reports', () => {
    const row = run('rcu-callbacks.mjs', 'typesafe', 4);
    expect(row).toMatchObject({ observed: 'clean', hits: 0, checkFailures: 0, runs: 4 });
  });
});
