// Shrinking a failing schedule: a random-strategy failure of the 2017 race (19 context switches,
// 271 decisions with --seed 1; controlled runs are deterministic, so these are exact) shrinks to a
// schedule with fewer switches and no more decisions, which a strict replay still fails the same way.
import { describe, expect, it } from 'vitest';
import { decodeSchedule, switches } from '../src/cpu/schedule.js';
import { json, mmrace } from './helpers/cli.js';

const ID = 'oom-reaper-vs-exit-mmap-2017';
type Row = {
  hits: number;
  runs: number;
  schedule: string | null;
  shrunkSchedule: string | null;
  shrink: {
    original: { steps: number; switches: number };
    shrunk: { steps: number; switches: number };
    tries: number;
    verified: boolean;
  };
  firstHit: { summary: string } | null;
};
const rowOf = (args: string[]) => {
  const r = mmrace(args, 120_000);
  expect(r.stderr).toBe('');
  return json<{ rows: Row[] }>(r).rows[0]!;
};

describe('--shrink', () => {
  it('shrinks a random-strategy failure to fewer switches, no longer, still failing the same way', () => {
    const base = ['repro', ID, '--variant', 'v4.14', '--strategy', 'random', '--seed', '1', '--runs', '200'];
    const r = rowOf([...base, '--shrink', '--json']);
    expect(r.hits).toBeGreaterThan(0);
    const orig = decodeSchedule(r.schedule!).picks;
    const shrunk = decodeSchedule(r.shrunkSchedule!).picks;
    expect(r.shrink.original).toEqual({ steps: orig.length, switches: switches(orig) });
    expect(r.shrink.shrunk).toEqual({ steps: shrunk.length, switches: switches(shrunk) });
    expect(switches(shrunk)).toBeLessThan(switches(orig));
    expect(shrunk.length).toBeLessThanOrEqual(orig.length);
    expect(r.shrink.verified).toBe(true);
    // Re-verified here too, in a fresh process: the shrunk schedule fails as the original did.
    const again = rowOf(['replay', ID, r.shrunkSchedule!, '--variant', 'v4.14', '--runs', '5', '--json']);
    expect(again.hits).toBe(5);
    expect(again.firstHit!.summary).toBe(r.firstHit!.summary);
  }, 130_000);

  it('is for controlled mode only: one line, exit 2', () => {
    const r = mmrace(['repro', ID, '--mode', 'free', '--shrink']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
