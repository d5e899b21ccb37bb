// Multi-CPU behaviour on the real worker path: lock exclusion under stress, a crashing CPU,
// and seeded jitter.
import { describe, expect, it } from 'vitest';
import { json, mmrace } from './helpers/cli.js';

type Row = {
  variant: string;
  observed: string;
  hits: number;
  runs: number;
  checkFailures: number;
  firstHit: { summary: string; jitter: { cpu: number; events: number; digest: number }[] } | null;
};

describe('rw_semaphore wait list under 4 CPUs (2 writers, 2 readers, 3000 ops each per run)', () => {
  it('never lets a writer in with readers or another writer, and counts every acquisition', () => {
    const r = mmrace([
      'run',
      'test/fixtures/rwsem-stress.mjs',
      '--variant',
      'correct',
      '--runs',
      '4',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const row = json<{ rows: Row[] }>(r).rows[0]!;
    expect(row).toMatchObject({ observed: 'clean', hits: 0, checkFailures: 0, runs: 4 });
  });

  it('keeps exclusion with writer optimistic spinning on (CONFIG_RWSEM_SPIN_ON_OWNER=y)', () => {
    const r = mmrace([
      'run',
      'test/fixtures/rwsem-stress.mjs',
      '--variant',
      'spinning',
      '--runs',
      '4',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const row = json<{ rows: Row[] }>(r).rows[0]!;
    expect(row).toMatchObject({ observed: 'clean', hits: 0, checkFailures: 0, runs: 4 });
  });

  it('catches a write path that ignores readers', () => {
    const r = mmrace([
      'run',
      'test/fixtures/rwsem-stress.mjs',
      '--variant',
      'busted',
      '--runs',
      '4',
      '--json',
    ]);
    expect(r.code).toBe(0); // the busted variant is expected to reproduce
    const row = json<{ rows: Row[] }>(r).rows[0]!;
    expect(row.observed).toBe('reproduces');
    expect(row.firstHit?.summary).toMatch(/^BUG: rwsem exclusion violated/);
  });
});

describe('a CPU whose program throws', () => {
  it('is reported with its CPU id and stack, stops the other CPUs, and the command exits non-zero', () => {
    const r = mmrace(['run', 'test/fixtures/throws.mjs'], 30_000);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/CPU1 \(thrower\) crashed: TypeError: Cannot read properties of null/);
    expect(r.stdout).toMatch(/at .*test\/fixtures\/throws\.mjs:\d+/);
    // CPU0 and CPU2 spin forever unless stopped; the process exiting proves every worker is gone.
    expect(r.ms).toBeLessThan(25_000);
  });
});

describe('seeded jitter', () => {
  const digests = (seed: string) => {
    const r = mmrace(['run', 'test/fixtures/jitter.mjs', '--runs', '3', '--seed', seed, '--json']);
    expect(r.code).toBe(0);
    return json<{ rows: Row[] }>(r).rows[0]!.firstHit!.jitter;
  };

  it('injects the same jitter for the same seed, and different jitter for another seed', () => {
    const a = digests('5');
    const b = digests('5');
    const c = digests('6');
    expect(a[0]!.events).toBeGreaterThan(100); // 1000 window passes at p=0.3
    expect(a).toEqual(b);
    expect(c[0]!.digest).not.toBe(a[0]!.digest);
  });
});
