// The README's example scenario (examples/fault-vs-munmap.mjs), written only against the public
// API ('mmrace'), runs on every era and is clean everywhere, in free and controlled mode.
import { describe, expect, it } from 'vitest';
import { json, mmrace } from './helpers/cli.js';

describe('examples/fault-vs-munmap.mjs', () => {
  it.each([
    [[]],
    [['--mode', 'controlled', '--strategy', 'pct']],
  ])('runs with --eras all %j: one clean row per era', (mode) => {
    const r = mmrace([
      'run',
      'examples/fault-vs-munmap.mjs',
      '--eras',
      'all',
      '--runs',
      '20',
      ...mode,
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = json<{ ok: boolean; eras: string[]; rows: { era: string; observed: string }[] }>(r);
    expect(out.ok).toBe(true);
    expect(out.rows.length).toBeGreaterThanOrEqual(14);
    for (const row of out.rows) expect(row.observed).toBe('clean');
  }, 60_000);

  it('imports nothing but mmrace', async () => {
    const { readFileSync } = await import('node:fs');
    const src = readFileSync('examples/fault-vs-munmap.mjs', 'utf8');
    expect([...src.matchAll(/from '([^']+)'/g)].map((m) => m[1])).toEqual(['mmrace']);
  });
});
