// v4.14's rw_semaphore on real worker threads (free mode): exclusion and progress under 4 CPUs,
// with and without writer spinning, and 4 writers queueing on the OSQ in both eras. A broken write
// fast path must be caught the same way.
import { describe, expect, it } from 'vitest';
import { json, mmrace } from './helpers/cli.js';

type Row = { variant: string; observed: string; hits: number; runs: number; checkFailures: number };

const T = 60_000;

function row(fixture: string, variant: string): Row & { firstHit: { summary: string } | null } {
  const r = mmrace(['run', `test/fixtures/${fixture}.mjs`, '--variant', variant, '--runs', '4', '--json'], T);
  expect(r.code).toBe(0); // the variant's verdict matched its expectation
  return json<{ rows: (Row & { firstHit: { summary: string } | null })[] }>(r).rows[0]!;
}

describe('rwsem-xadd under 4 CPUs', () => {
  it.each([
    ['rwsem-stress', 'xadd', '2 writers + 2 readers, 3000 sections each'],
    ['rwsem-stress', 'xadd-spinning', 'the same with CONFIG_RWSEM_SPIN_ON_OWNER=y'],
    ['rwsem-writers-spin', 'v4.14', '4 writers spinning behind the OSQ, 2000 sections each'],
    ['rwsem-writers-spin', 'v6.6', "the same on v6.6's rwsem"],
  ])(
    '%s %s (%s): exclusion holds and every section is counted',
    (fixture, variant) => {
      expect(row(fixture, variant)).toMatchObject({ observed: 'clean', hits: 0, checkFailures: 0, runs: 4 });
    },
    T,
  );

  it(
    'catches a write path that ignores readers',
    () => {
      const r = row('rwsem-stress', 'xadd-busted');
      expect(r.observed).toBe('reproduces');
      expect(r.firstHit?.summary).toMatch(/^BUG: rwsem exclusion violated/);
    },
    T,
  );
});
