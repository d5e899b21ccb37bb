// `mmrace torture` (locktorture) through the built command: the kernel's statistics lines, the
// exclusion checks, a lock that does not exclude, and bad input.
import { describe, expect, it } from 'vitest';
import { json, mmrace } from './helpers/cli.js';

const T = 30_000;

/** __torture_print_stats(): "%s:  Total: %lld  Max/Min: %ld/%ld %s  Fail: %d %s" */
const STATS = /^(Writes|Reads ): {2}Total: (\d+) {2}Max\/Min: (\d+)\/(\d+) (\?\?\?|) {2}Fail: ([01]) (!!!|)$/;

interface Stats {
  kind: string;
  total: number;
  max: number;
  min: number;
  starved: boolean;
  fail: number;
  bang: boolean;
}

function statsLines(stdout: string): Stats[] {
  const out: Stats[] = [];
  for (const line of stdout.split('\n')) {
    if (!/^(Writes|Reads )/.test(line)) continue;
    const m = STATS.exec(line);
    expect(m, `not in locktorture's format: ${JSON.stringify(line)}`).not.toBeNull();
    const [, kind, total, max, min, q, fail, bang] = m!;
    out.push({
      kind: kind!,
      total: Number(total),
      max: Number(max),
      min: Number(min),
      starved: q === '???',
      fail: Number(fail),
      bang: bang === '!!!',
    });
  }
  return out;
}

function checkConsistent(s: Stats): void {
  expect(s.max).toBeGreaterThanOrEqual(s.min);
  expect(s.total).toBeGreaterThanOrEqual(s.max);
  // The starvation flag is locktorture's: max / 2 > min, in integer arithmetic.
  expect(s.starved).toBe(Math.trunc(s.max / 2) > s.min);
  expect(s.bang).toBe(s.fail === 1);
}

const parmsLine = (type: string, tag: string) =>
  new RegExp(
    `^${type}-torture:--- ${tag}: acq_writer_lim=0 long_hold=\\d+ nested_locks=0 nreaders_stress=\\d+ ` +
      'nwriters_stress=\\d+ onoff_holdoff=0 onoff_interval=0 rt_boost=0 rt_boost_factor=50 shuffle_interval=0 ' +
      'shutdown_secs=0 stat_interval=\\d+ stutter=0 verbose=0 writer_fifo=0 readers_bind=\\S* writers_bind=\\S+$',
    'm',
  );

describe('mmrace torture', () => {
  it(
    'rwsem_lock: writers and readers make progress, nothing breaks, lines in the kernel format',
    () => {
      const r = mmrace([
        'torture',
        '--type',
        'rwsem_lock',
        '--nwriters',
        '2',
        '--nreaders',
        '2',
        '--duration',
        '2',
        '--stat-interval',
        '1',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(parmsLine('rwsem_lock', 'Start of test'));
      expect(r.stdout).toMatch(/nreaders_stress=2 nwriters_stress=2 .* readers_bind=1,3 writers_bind=0,2$/m);
      expect(r.stdout).toMatch(parmsLine('rwsem_lock', 'End of test: SUCCESS'));
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines.at(-1)).toMatch(/End of test: SUCCESS/);
      const stats = statsLines(r.stdout);
      // One periodic printout at 1 s, then the final one: a Writes and a Reads line each.
      expect(stats.map((s) => s.kind)).toEqual(['Writes', 'Reads ', 'Writes', 'Reads ']);
      for (const s of stats) {
        checkConsistent(s);
        expect(s.fail).toBe(0);
      }
      const [w1, r1, w, rd] = stats as [Stats, Stats, Stats, Stats];
      expect(w.total).toBeGreaterThan(0);
      expect(rd.total).toBeGreaterThan(0);
      expect(w.min).toBeGreaterThan(0);
      expect(rd.min).toBeGreaterThan(0);
      // Counters grow while the CPUs run: the periodic printout is a snapshot.
      expect(w.total).toBeGreaterThanOrEqual(w1.total);
      expect(rd.total).toBeGreaterThanOrEqual(r1.total);
      // The final lines come with the exact spacing of the kernel's format string.
      expect(r.stdout).toContain(`Writes:  Total: ${w.total}  Max/Min: ${w.max}/${w.min} `);
      expect(r.stdout).toContain(`Reads :  Total: ${rd.total}  Max/Min: ${rd.max}/${rd.min} `);
    },
    T,
  );

  it.each([
    ['v4.14', 'rwsem-xadd.c (v4.14)', 'Linux 4.14.0'],
    ['v6.6', 'rwsem.c (v6.6)', 'Linux 6.6.0'],
  ])(
    "rwsem_lock --era %s runs that era's rw_semaphore: exclusion holds, every thread progresses",
    (era, rwsem, release) => {
      const args = ['torture', '--type', 'rwsem_lock', '--era', era, '--nwriters', '2', '--nreaders', '2'];
      const r = mmrace([...args, '--duration', '1']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`rwsem_lock-torture: era ${era} (${release}): rw_semaphore ${rwsem}, `);
      const stats = statsLines(r.stdout);
      expect(stats.map((s) => s.kind)).toEqual(['Writes', 'Reads ']);
      for (const s of stats) {
        checkConsistent(s);
        expect(s.fail).toBe(0);
        expect(s.min).toBeGreaterThan(0);
      }
      expect(r.stdout).toMatch(parmsLine('rwsem_lock', 'End of test: SUCCESS'));
    },
    T,
  );

  it(
    'rwsem_xadd_busted (a v4.14 write fast path testing the wrong half of the count) fails with !!! and exit 1',
    () => {
      const r = mmrace([
        'torture',
        '--type',
        'rwsem_xadd_busted',
        '--nwriters',
        '2',
        '--nreaders',
        '2',
        '--duration',
        '1',
      ]);
      expect(r.code).toBe(1);
      const stats = statsLines(r.stdout);
      expect(stats.some((s) => s.fail === 1 && s.bang)).toBe(true);
      expect(r.stdout).toMatch(
        /^WARNING: CPU: \d+ PID: \d+ at kernel\/locking\/locktorture\.c:lock_torture_(writer|reader)/m,
      );
      expect(r.stdout).toMatch(parmsLine('rwsem_xadd_busted', 'End of test: FAILURE'));
    },
    T,
  );

  it('--help lists the types and the eras with their rw_semaphore', () => {
    const r = mmrace(['torture', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Types: .*rwsem_lock, rwsem_xadd_busted/m);
    const eras = /^Eras: (.*)$/m.exec(r.stdout)?.[1] ?? '';
    expect(eras).toContain('v4.14 (rwsem-xadd.c (v4.14))');
    expect(eras).toContain('v6.1 (rwsem.c (v6.1))');
    expect(eras).toContain('v6.6 (rwsem.c (v6.6))');
  });

  it(
    'lock_event_counts: the xadd rwsem never hands off or steals; --spin-on-owner makes writers spin',
    () => {
      const run = (era: string, ...more: string[]) => {
        const args = ['torture', '--type', 'rwsem_lock', '--era', era, '--duration', '1'];
        const r = mmrace([...args, ...more, '--json']);
        expect(r.code).toBe(0);
        return json(r).lockEvents as Record<string, number>;
      };
      const xadd = run('v4.14', '--spin-on-owner');
      expect(xadd.rwsem_wlock_handoff + xadd.rwsem_rlock_steal).toBe(0);
      expect(xadd.rwsem_opt_lock + xadd.rwsem_opt_fail).toBeGreaterThan(0);
      const off = run('v4.14');
      expect(off.rwsem_opt_lock + off.rwsem_opt_fail).toBe(0); // the era default: no spinning
      // v6.6: readers steal the lock from queued waiters (1 s of 2+2 threads: hundreds of
      // thousands of steals measured; any one is enough).
      expect(run('v6.6').rwsem_rlock_steal).toBeGreaterThan(0);
    },
    T,
  );

  it(
    'spin_lock passes',
    () => {
      const r = mmrace(['torture', '--type', 'spin_lock', '--nwriters', '3', '--duration', '1']);
      expect(r.code).toBe(0);
      const stats = statsLines(r.stdout);
      expect(stats.map((s) => s.kind)).toEqual(['Writes']); // no read side: no Reads line
      checkConsistent(stats[0]!);
      expect(stats[0]!.fail).toBe(0);
      expect(stats[0]!.min).toBeGreaterThan(0);
      expect(r.stdout).toMatch(/nreaders_stress=0 nwriters_stress=3 /);
      expect(r.stdout).toMatch(parmsLine('spin_lock', 'End of test: SUCCESS'));
    },
    T,
  );

  it(
    'seqcount passes: readers retry instead of excluding writers',
    () => {
      const r = mmrace([
        'torture',
        '--type',
        'seqcount',
        '--nwriters',
        '1',
        '--nreaders',
        '2',
        '--duration',
        '1',
        '--json',
      ]);
      expect(r.code).toBe(0);
      const out = json<{
        ok: boolean;
        result: string;
        writes: { total: number; fail: boolean };
        reads: { total: number; fail: boolean };
      }>(r);
      expect(out).toMatchObject({
        ok: true,
        result: 'SUCCESS',
        writes: { fail: false },
        reads: { fail: false },
      });
      expect(out.writes.total).toBeGreaterThan(0);
      expect(out.reads.total).toBeGreaterThan(0);
    },
    T,
  );

  it(
    'rcu passes: no reader sees its element freed before a grace period ended',
    () => {
      const r = mmrace(['torture', '--type', 'rcu', '--nwriters', '1', '--nreaders', '2', '--duration', '1']);
      expect(r.code).toBe(0);
      const stats = statsLines(r.stdout);
      expect(stats.map((s) => s.kind)).toEqual(['Writes', 'Reads ']);
      for (const s of stats) {
        checkConsistent(s);
        expect(s.fail).toBe(0);
        expect(s.min).toBeGreaterThan(0);
      }
      expect(r.stdout).toMatch(parmsLine('rcu', 'End of test: SUCCESS'));
    },
    T,
  );

  it(
    'lock_busted (lock and unlock do nothing) fails with !!! and exit 1',
    () => {
      const r = mmrace(['torture', '--type', 'lock_busted', '--nwriters', '2', '--duration', '1']);
      expect(r.code).toBe(1);
      const [w] = statsLines(r.stdout);
      expect(w).toMatchObject({ kind: 'Writes', fail: 1, bang: true });
      checkConsistent(w!);
      expect(r.stdout).toMatch(/^Writes: {2}Total: \d+ {2}Max\/Min: \d+\/\d+ (\?\?\?)? {2}Fail: 1 !!!$/m);
      expect(r.stdout).toMatch(
        /^WARNING: CPU: \d+ PID: \d+ at kernel\/locking\/locktorture\.c:lock_torture_writer/m,
      );
      expect(r.stdout).toMatch(parmsLine('lock_busted', 'End of test: FAILURE'));
    },
    T,
  );

  it(
    '--json carries the statistics and the printed lines',
    () => {
      const r = mmrace(['torture', '--type', 'lock_busted', '--nwriters', '2', '--duration', '1', '--json']);
      expect(r.code).toBe(1);
      const out = json<{
        ok: boolean;
        result: string;
        acquisitions: number;
        writes: { total: number; fail: boolean; threads: { cpu: number; acquired: number; fails: number }[] };
        reads: null;
        log: string[];
      }>(r);
      expect(out).toMatchObject({ ok: false, result: 'FAILURE', reads: null, writes: { fail: true } });
      expect(out.writes.threads.map((t) => t.cpu)).toEqual([0, 1]);
      expect(out.acquisitions).toBe(out.writes.total);
      expect(out.writes.threads.reduce((a, t) => a + t.acquired, 0)).toBe(out.writes.total);
      expect(out.log.at(-1)).toMatch(/End of test: FAILURE/);
    },
    T,
  );

  it.each([
    [['--type', 'mcs_lock'], /invalid torture type: "mcs_lock"/],
    [
      ['--type', 'rwsem_lock', '--nwriters', '9', '--nreaders', '9'],
      /need 18 CPUs; the machine has at most 16/,
    ],
    [['--nwriters', '17'], /--nwriters <n>' argument '17' is invalid/],
    [['--duration', '-1'], /--duration <s>' argument '-1' is invalid/],
    [['--duration', '0'], /--duration <s>' argument '0' is invalid/],
    [['--duration', '1e9'], /--duration <s>' argument '1e9' is invalid/],
    [['--stat-interval', '-5'], /--stat-interval <s>' argument '-5' is invalid/],
    [['--type', 'spin_lock', '--nreaders', '2'], /spin_lock has no read side/],
    [['--type', 'spin_lock', '--nwriters', '0'], /must run at least one locking thread/],
    [['--long-hold', 'long'], /--long-hold \[ms\]' argument 'long' is invalid/],
    [['--type', 'rwsem_lock', '--era', 'v9.9'], /unknown era 'v9\.9' \(known: v4\.13, v4\.14, .*v6\.6.*\)/],
  ])('torture %j is one line on stderr and exit 2', (args, message) => {
    const r = mmrace(['torture', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });
});
