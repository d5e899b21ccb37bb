// Free mode's idle warp (src/cpu/idle_warp.ts), on the built command's CPU workers: a CPU asleep on a
// 3 s timer (emulated time at scale 1) while the other CPU is done wakes at once with the 3 s gone
// by on the emulated clock; while the other CPU runs (300 ms of wall time) the clock keeps wall
// speed, and the rest of the sleep is warped once it is done. The fixture's final checks hold the
// bounds (idle: under 1 s of wall time asleep; busy: 290 ms to 2 s), so a run that slept it out or
// warped early fails its check. Without the warp each run would take 3 s.
import { describe, expect, it } from 'vitest';
import { json, mmraceAsync } from './helpers/cli.js';

describe('free mode: the idle warp', () => {
  it.concurrent.each([
    'idle',
    'busy',
  ])('%s: the emulated sleep is whole, its wall time what nobody running skips', async (v) => {
    const r = await mmraceAsync([
      'run',
      'test/fixtures/idle-warp.mjs',
      '--variant',
      v,
      '--runs',
      '3',
      '--json',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const row = json(r).rows[0]!;
    expect(row).toMatchObject({ variant: v, runs: 3, hits: 0, checkFailures: 0, error: null });
  });
});
