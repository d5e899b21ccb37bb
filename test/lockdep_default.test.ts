// lockdep is on by default in controlled mode (every strategy and --replay), off by default in free
// mode; --no-lockdep turns it off, --lockdep on. test/fixtures/lock-order.mjs has one CPU take two
// rwsems in one order and then (variant 'inverted') in the other: only lockdep can see that.
import { describe, expect, it } from 'vitest';
import { json, mmrace } from './helpers/cli.js';

const FIXTURE = 'test/fixtures/lock-order.mjs';
const CIRCULAR = 'WARNING: possible circular locking dependency detected';

type Row = {
  variant: string;
  mode: string;
  strategy: string | null;
  observed: string;
  hits: number;
  runs: number;
  schedule: string | null;
  firstHit: { summary: string; dmesg: string[] } | null;
};

function rows(args: string[]): { code: number | null; rows: Row[] } {
  const r = mmrace(['run', FIXTURE, '--runs', '3', '--json', ...args]);
  expect(r.stderr).toBe('');
  return { code: r.code, rows: json<{ rows: Row[] }>(r).rows };
}

const byVariant = (rs: Row[], v: string): Row => rs.find((r) => r.variant === v)!;

describe('lockdep by default in controlled mode', () => {
  for (const strategy of ['random', 'pct', 'dfs']) {
    it(`--strategy ${strategy}, no --lockdep: the inversion is reported, the correct order is silent`, () => {
      const { code, rows: rs } = rows(['--strategy', strategy]);
      expect(code).toBe(0);
      const bad = byVariant(rs, 'inverted');
      expect(bad).toMatchObject({ mode: 'controlled', strategy, observed: 'reproduces' });
      expect(bad.hits).toBe(bad.runs);
      expect(bad.firstHit!.summary).toBe(CIRCULAR);
      expect(bad.firstHit!.dmesg.join('\n')).toMatch(
        /\(order_A\)[\s\S]*\(order_B\)|\(order_B\)[\s\S]*\(order_A\)/,
      );
      const good = byVariant(rs, 'ordered');
      expect(good).toMatchObject({ observed: 'clean', hits: 0, firstHit: null });
    });
  }

  it('a replayed schedule has lockdep too; --no-lockdep replays it silently', () => {
    const found = byVariant(rows(['--strategy', 'random', '--variant', 'inverted']).rows, 'inverted');
    const again = rows(['--replay', found.schedule!, '--variant', 'inverted']);
    expect(again.code).toBe(0);
    expect(again.rows[0]).toMatchObject({ strategy: 'replay', observed: 'reproduces' });
    expect(again.rows[0]!.firstHit!.summary).toBe(CIRCULAR);
    const off = rows(['--replay', found.schedule!, '--variant', 'inverted', '--no-lockdep']);
    expect(off.code).toBe(1);
    expect(off.rows[0]).toMatchObject({ strategy: 'replay', observed: 'clean', hits: 0, firstHit: null });
  });

  it('--no-lockdep: silence in controlled mode (the inversion goes unseen, as the verdict says)', () => {
    const { code, rows: rs } = rows(['--strategy', 'pct', '--no-lockdep']);
    expect(code).toBe(1);
    for (const r of rs)
      expect(r).toMatchObject({ mode: 'controlled', observed: 'clean', hits: 0, firstHit: null });
  });

  it('a failing schedule found with --no-lockdep prints a replay command with --no-lockdep', () => {
    const args = ['run', 'test/fixtures/abba.mjs', '--variant', 'rendezvous', '--strategy', 'random'];
    const off = mmrace([...args, '--runs', '5', '--no-lockdep']);
    expect(off.stdout).toMatch(
      /replay it: mmrace run test\/fixtures\/abba\.mjs --replay 'S1:2:[a-z0-9]+' --variant rendezvous --no-lockdep\n/,
    );
    const on = mmrace([...args, '--runs', '5']);
    expect(on.stdout).toMatch(
      /replay it: mmrace run test\/fixtures\/abba\.mjs --replay 'S1:2:[a-z0-9]+' --variant rendezvous\n/,
    );
  });

  it('--lockdep still turns it on; free mode is off unless given', () => {
    const on = rows(['--strategy', 'random', '--lockdep']);
    expect(on.code).toBe(0);
    expect(byVariant(on.rows, 'inverted').firstHit!.summary).toBe(CIRCULAR);
    const free = rows([]);
    expect(free.code).toBe(1);
    for (const r of free.rows) expect(r).toMatchObject({ mode: 'free', observed: 'clean', hits: 0 });
    const freeOn = rows(['--lockdep']);
    expect(freeOn.code).toBe(0);
    expect(byVariant(freeOn.rows, 'inverted')).toMatchObject({ mode: 'free', observed: 'reproduces' });
    expect(byVariant(freeOn.rows, 'ordered')).toMatchObject({ observed: 'clean', hits: 0 });
  });

  it('--help names both flags', () => {
    const r = mmrace(['repro', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--lockdep\s+run with lockdep: the default in controlled mode/);
    expect(r.stdout).toMatch(/--no-lockdep\s+run without lockdep/);
  });
});
