// An AB-BA deadlock on two rw_semaphores (test/fixtures/abba.mjs, 'rendezvous': each CPU holds its
// first lock before it takes the second, so every run deadlocks). Controlled mode stops when no
// CPU can run and prints the deadlock report; free mode's hung-task watchdog prints the kernel's
// "blocked for more than N seconds" report and stops the run; either way the command exits.
import { describe, expect, it } from 'vitest';
import { json, mmrace } from './helpers/cli.js';

const FIXTURE = 'test/fixtures/abba.mjs';
/** Free runs end by khungtaskd, one to two hung_task intervals (>= 1 s of wall time each) a run. */
const T = 60_000;
type Row = {
  observed: string;
  hits: number;
  runs: number;
  error: string | null;
  firstHit: { dmesg: string[] };
};

function firstHit(args: string[]): { row: Row; dmesg: string[]; ms: number } {
  const r = mmrace(['run', FIXTURE, '--variant', 'rendezvous', ...args, '--json'], 60_000);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0); // 'reproduces' was expected
  const row = json<{ rows: Row[] }>(r).rows[0]!;
  return { row, dmesg: row.firstHit.dmesg.map((l) => l.replace(/^\[[ \d.]+\] /, '')), ms: r.ms };
}

describe('deadlock and hang reports', () => {
  it(
    'controlled: every CPU, the lock it waits on and the mode, the holder, every held lock',
    () => {
      const { row, dmesg } = firstHit(['--strategy', 'random', '--runs', '5', '--seed', '3']);
      expect(row).toMatchObject({ observed: 'reproduces', hits: 5, runs: 5, error: null });
      const at = dmesg.indexOf('INFO: deadlock: no CPU can run and no timer is pending');
      expect(at).toBeGreaterThanOrEqual(0);
      const report = dmesg.slice(at);
      expect(report[1]).toMatch(
        /^CPU0 \(A then B\): task abba0:\d+ blocked in down_write\(\) on rw_semaphore lock_B \(/,
      );
      expect(report[2]).toMatch(/^ {2}held by: abba1\/\d+ \(W\)$/);
      expect(report[4]).toMatch(
        /^CPU1 \(B then A\): task abba1:\d+ blocked in down_write\(\) on rw_semaphore lock_A/,
      );
      expect(report[5]).toMatch(/^ {2}held by: abba0\/\d+ \(W\)$/);
      // Replayed with lockdep for the held locks, which also reports the AB-BA order before it hangs.
      expect(report.filter((l) => /^2 locks held by abba[01]\/\d+:$/.test(l))).toHaveLength(2);
      expect(dmesg).toContain('WARNING: possible circular locking dependency detected');
    },
    T,
  );

  it(
    'free: the hung-task watchdog reports each blocked task and the run ends',
    () => {
      const { row, dmesg, ms } = firstHit(['--runs', '3']);
      expect(row).toMatchObject({ observed: 'reproduces', hits: 3, runs: 3, error: null });
      expect(dmesg.some((l) => /^INFO: task abba0:\d+ blocked for more than \d+ seconds\.$/.test(l))).toBe(
        true,
      );
      expect(dmesg.some((l) => /^INFO: task abba1:\d+ blocked for more than \d+ seconds\.$/.test(l))).toBe(
        true,
      );
      expect(dmesg.some((l) => /^ {2}held by: abba[01]\/\d+ \(W\)$/.test(l))).toBe(true);
      // The watchdog waits 1 s of wall time a run (at timeScale 1000, 1000 emulated seconds, more than
      // the kernel's 120, so a host that stalls a lock holder for a moment is not called hung); the
      // 20 s run timeout never fires.
      expect(ms).toBeLessThan(20_000);
    },
    T,
  );

  it(
    'free with --lockdep: the watchdog shows every held lock',
    () => {
      const { dmesg } = firstHit(['--runs', '1', '--lockdep']);
      expect(dmesg).toContain('Showing all locks held in the system:');
      // Each task's two locks. When one task went hung a khungtaskd interval after the other, the
      // next pass reports both again, with all locks again, as the kernel's next pass would.
      const held = dmesg.map((l) => /^2 locks held by (abba[01])\/\d+:$/.exec(l)?.[1]).filter(Boolean);
      expect(new Set(held)).toEqual(new Set(['abba0', 'abba1']));
      expect(held.length % 2).toBe(0);
    },
    T,
  );

  it(
    'a correct lock order is silent in both modes',
    () => {
      for (const mode of [['--strategy', 'random'], []]) {
        const r = mmrace(['run', FIXTURE, '--variant', 'ordered', '--runs', '20', ...mode, '--json'], 60_000);
        expect(r.code).toBe(0);
        expect(json<{ rows: Row[] }>(r).rows[0]).toMatchObject({ observed: 'clean', hits: 0, runs: 20 });
      }
    },
    T,
  );
});

describe('a deadlock with readers in it (test/fixtures/readers-deadlock.mjs)', () => {
  const READERS = 'test/fixtures/readers-deadlock.mjs';
  const lines = (args: string[]) => {
    const r = mmrace(['run', READERS, ...args, '--json'], 60_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return json<{ rows: Row[] }>(r).rows[0]!.firstHit.dmesg.map((l) => l.replace(/^\[[ \d.]+\] /, ''));
  };
  const bothReaders = /^ {2}held by: reader0\/\d+ \(R\), reader1\/\d+ \(R\)$/;

  it(
    'controlled: the writer waits on lock_A, held by both readers, each named',
    () => {
      const d = lines(['--strategy', 'random', '--runs', '3']);
      const at = d.findIndex((l) =>
        /^CPU2 \(writer\): task writer:\d+ blocked in down_write\(\) on rw_semaphore lock_A/.test(l),
      );
      expect(at).toBeGreaterThan(0);
      expect(d[at + 1]).toMatch(bothReaders);
      expect(
        d.some((l) =>
          /^CPU0 \(reader 0\): task reader0:\d+ blocked in down_read\(\) on rw_semaphore lock_B/.test(l),
        ),
      ).toBe(true);
    },
    T,
  );

  it(
    'free with --lockdep: the hung-task report names both readers too',
    () => {
      const d = lines(['--runs', '1', '--lockdep']);
      const at = d.findIndex((l) => /^INFO: task writer:\d+ blocked for more than \d+ seconds\.$/.test(l));
      expect(at).toBeGreaterThanOrEqual(0);
      expect(d.slice(at).some((l) => bothReaders.test(l))).toBe(true);
    },
    T,
  );
});

describe('spin deadlocks (controlled mode)', () => {
  it(
    'an AB-BA on two spinlocks is reported as a spin deadlock naming both spinning CPUs',
    () => {
      const r = mmrace(
        [
          'run',
          'test/fixtures/spin-abba.mjs',
          '--variant',
          'abba',
          '--strategy',
          'random',
          '--runs',
          '1',
          '--json',
        ],
        60_000,
      );
      expect(r.code).toBe(0);
      const row = json<{ rows: Row[] }>(r).rows[0]!;
      const d = row.firstHit.dmesg.map((l) => l.replace(/^\[[ \d.]+\] /, ''));
      const at = d.indexOf('INFO: deadlock: only spinning CPUs could run, 10000 decisions in a row');
      expect(at).toBeGreaterThanOrEqual(0);
      expect(d[at + 1]).toMatch(/^CPU0 \(A then B\): task spin0:\d+ spins \(cpu_relax\)/);
      expect(d[at + 2]).toMatch(/^CPU1 \(B then A\): task spin1:\d+ spins \(cpu_relax\)/);
    },
    T,
  );

  it(
    'free mode: the soft-lockup watchdog reports the CPUs stuck spinning and the run ends',
    () => {
      const r = mmrace(
        ['run', 'test/fixtures/spin-abba.mjs', '--variant', 'abba', '--runs', '2', '--json'],
        60_000,
      );
      expect(r.code).toBe(0);
      const row = json<{ rows: Row[] }>(r).rows[0]!;
      expect(row).toMatchObject({ observed: 'reproduces', hits: 2, runs: 2, error: null });
      const d = row.firstHit.dmesg.map((l) => l.replace(/^\[[ \d.]+\] /, ''));
      expect(d.some((l) => /^BUG: soft lockup - CPU#[01] stuck for \d+s! \[spin[01]:\d+\]$/.test(l))).toBe(
        true,
      );
      expect(r.ms).toBeLessThan(20_000);
    },
    T,
  );

  it(
    'silent: the same locks in one order, over the whole dfs space',
    () => {
      const r = mmrace([
        'run',
        'test/fixtures/spin-abba.mjs',
        '--variant',
        'ordered',
        '--strategy',
        'dfs',
        '--runs',
        '100000',
        '--json',
      ]);
      expect(r.code).toBe(0);
      expect(json<{ rows: Row[] }>(r).rows[0]).toMatchObject({ observed: 'clean', hits: 0 });
    },
    T,
  );

  it(
    'silent: a spinner waiting for a CPU asleep on a 50 ms timer (the clock jumps to the timer)',
    () => {
      const r = mmrace([
        'run',
        'test/fixtures/spin-timer.mjs',
        '--strategy',
        'random',
        '--runs',
        '3',
        '--json',
      ]);
      expect(r.code).toBe(0);
      expect(json<{ rows: Row[] }>(r).rows[0]).toMatchObject({ observed: 'clean', hits: 0, runs: 3 });
    },
    T,
  );
});
