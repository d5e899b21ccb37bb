// `--machines N`: one campaign on N emulated machines (host processes, each with its own arena and
// CPU threads) gives the verdicts, hits, runs and first failing run of one machine, and really
// splits the work (each machine's runs are in the row's `merged`). Bad values are refused with one
// line; the process leaves nothing behind: after a run, after a machine's crash, after Ctrl-C.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectOneLine, expectUsageError, json, mmrace, mmraceAlone } from './helpers/cli.js';

const ID = 'oom-reaper-vs-exit-mmap-2017';
const FIXTURE = 'test/fixtures/seeded-hit.mjs';
const root = fileURLToPath(new URL('../', import.meta.url));

interface Row {
  observed: string;
  ok: boolean;
  runs: number;
  hits: number;
  firstHitSeed: number | null;
  firstHit: { run: number; dmesg: string[] } | null;
  schedule: string | null;
  merged?: { count: number; runs: number[]; hits: number[] };
  runsPerSec: number;
  wallMs: number;
}
interface Out {
  ok: boolean;
  machines?: number;
  rows: Row[];
}

function campaign(args: string[]): Out {
  const r = mmrace(args, 150_000);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return json<Out>(r);
}

/** A kernel log line without its timestamp (wall time since the machine booted: never the same). */
const untimed = (line: string) => line.replace(/^\[\s*\d+\.\d+\] /, '');

/** What must not depend on how many machines ran the campaign. */
const verdict = (r: Row) => ({
  observed: r.observed,
  runs: r.runs,
  hits: r.hits,
  firstHitSeed: r.firstHitSeed,
  firstHitRun: r.firstHit?.run,
  firstHitDmesg: r.firstHit?.dmesg.map(untimed),
  schedule: r.schedule,
});

describe('--machines N gives the verdicts of one machine', () => {
  it('a 1-CPU scenario in free mode, fixed seed: the same as --machines 1 and as no --machines', () => {
    const args = ['run', FIXTURE, '--runs', '40', '--seed', '5', '--json'];
    const plain = campaign(args).rows[0]!;
    const one = campaign([...args, '--machines', '1']);
    const two = campaign([...args, '--machines', '2']);
    // Some runs hit and some do not, so the hits and the first failing seed say something.
    expect(plain.hits).toBeGreaterThan(0);
    expect(plain.hits).toBeLessThan(40);
    expect(verdict(one.rows[0]!)).toEqual(verdict(plain));
    expect(verdict(two.rows[0]!)).toEqual(verdict(plain));
    expect([one.machines, two.machines]).toEqual([1, 2]);
    // The runs were split: each machine made its half.
    expect(two.rows[0]!.merged).toMatchObject({ count: 2, runs: [20, 20] });
    expect(two.rows[0]!.merged!.hits.reduce((a, b) => a + b, 0)).toBe(plain.hits);
  }, 300_000);

  it('a buggy 3-CPU controlled random campaign: the same hits, first failing seed and schedule', () => {
    const args = ['repro', ID, '--variant', 'v4.14', '--strategy', 'random', '--runs', '40', '--seed', '1'];
    const one = campaign([...args, '--machines', '1', '--json']);
    const two = campaign([...args, '--machines', '2', '--json']);
    const row = one.rows[0]!;
    expect(row.observed).toBe('reproduces');
    expect(row.schedule).toMatch(/^S1:3:/);
    expect(verdict(two.rows[0]!)).toEqual(verdict(row));
    expect(two.rows[0]!.merged).toMatchObject({ count: 2, runs: [20, 20] });
  }, 300_000);

  it('DFS bound 1, 2017 v4.15: the same space, split into 16 shards the two machines take in turn', () => {
    const args = ['repro', ID, '--variant', 'v4.15', '--strategy', 'dfs', '--preemptions', '1'];
    const all = [...args, '--runs', '1000000', '--json'];
    const one = campaign(all).rows[0]! as Row & { explored: number };
    const two = campaign([...all, '--machines', '2']);
    const row = two.rows[0]! as Row & { explored: number; merged: { explored: number[] } };
    expect(one.observed).toBe('clean');
    expect(verdict(row)).toEqual(verdict(one));
    expect(row.explored).toBe(one.explored);
    expect(two.machines).toBe(2);
    // Every shard ran, each on whichever machine was free, and together they are the whole space.
    expect(row.merged.count).toBe(16);
    expect(row.merged.explored.reduce((a, b) => a + b, 0)).toBe(one.explored);
    // A machine runs its shards one after the other: the row's time is the slowest machine's sum,
    // and its rate the runs over that time (not the 16 shards' rates added, as if all ran at once).
    expect(Math.abs((row.runsPerSec * row.wallMs) / 1000 - row.runs)).toBeLessThan(row.runs * 0.01);
    const text = mmrace([...args, '--runs', '1000000', '--machines', '2'], 150_000);
    expect(text.stdout).toContain('ran on 2 machines (shards 1..16 of 16, taken in turn;');
    expect(text.stdout).toMatch(/v4\.15: 16 shards, schedules explored (\d+ \+ ){15}\d+ = \d+; hits 0/);
  }, 300_000);

  it('the text report names the machines and what each ran', () => {
    const r = mmrace(['run', FIXTURE, '--runs', '10', '--seed', '5', '--machines', '2'], 60_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ran on 2 machines');
    expect(r.stdout).toMatch(/seeded-hit any: 2 machines, runs 5 \+ 5 = 10; hits \d+ \+ \d+/);
  }, 120_000);
});

describe('--machines: bad input, exit 2 and one line', () => {
  const cores = availableParallelism();
  it.each([['0'], [String(cores + 1)], ['x'], ['1.5'], ['-1']])('--machines %s', (v) => {
    const r = expectUsageError(['repro', ID, '--machines', v]);
    expect(r.stderr).toContain(`expected a number of machines in 1..${cores}`);
  });

  it.each([
    [['--shard', '1/2'], /give one or the other/],
    [['--replay', 'S1:3:a'], /a --replay runs one schedule/],
    [['--trace', '/tmp/mmrace-machines-trace.json'], /--trace writes one machine's runs/],
    [['--lock-stat'], /--lock-stat counts one machine's locks/],
    [['--variant', 'nope'], /has no variant 'nope'/],
  ])('with %j', (flags, message) => {
    const r = expectUsageError(['repro', ID, '--machines', '2', ...flags]);
    expect(r.stderr).toMatch(message);
  });
});

describe('--machines leaves nothing running', () => {
  it('a campaign: the command ends and no process of its group is left', async () => {
    const r = await mmraceAlone(['run', FIXTURE, '--runs', '10', '--machines', '2'], { timeoutMs: 60_000 });
    expect({ code: r.code, timedOut: r.timedOut, leftover: r.leftover }).toEqual({
      code: 0,
      timedOut: false,
      leftover: false,
    });
  }, 120_000);

  it('machine 2 crashes (its setup calls process.exit()): exit 3, machine 2 named, machine 1 stopped', async () => {
    const r = await mmraceAlone(
      ['run', 'test/fixtures/crash-in-setup.mjs', '--runs', '1000000', '--machines', '2'],
      { env: { CRASH_HOW: 'exit' }, timeoutMs: 60_000 },
    );
    expectOneLine(
      r,
      3,
      /^mmrace: machine 2\/2 crashed: its process ended \(exit code 7\) before it reported; the other machine was stopped\n/,
    );
  }, 120_000);

  it('machine 2 leaves a rejection unhandled: exit 3, machine 2 named with its error, machine 1 stopped', async () => {
    const r = await mmraceAlone(
      ['run', 'test/fixtures/crash-in-setup.mjs', '--runs', '1000000', '--machines', '2'],
      { env: { CRASH_HOW: 'reject' }, timeoutMs: 60_000 },
    );
    expect({ code: r.code, timedOut: r.timedOut, leftover: r.leftover }).toEqual({
      code: 3,
      timedOut: false,
      leftover: false,
    });
    expect(r.stderr).toMatch(
      /^mmrace: machine 2\/2 crashed: Error: boom in machine 2; the other machine was stopped\n {4}at /,
    );
  }, 120_000);

  it('Ctrl-C while the machines run: every machine stopped, exit 130', async () => {
    const child = spawn(
      process.execPath,
      ['dist/cli.js', 'repro', ID, '--strategy', 'random', '--runs', '10000000', '--machines', '2'],
      { cwd: root, env: { ...process.env, NO_COLOR: '1' } },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    try {
      // Both machines' CPU threads are up: each host process has about 11 threads of Node's own
      // and the scenario's 3 CPUs, so both hosts are past their start.
      await until(() => hostThreads(child.pid!).filter((n) => n >= 11 + 3).length === 2, 60_000);
      child.kill('SIGINT');
      const code = await Promise.race([exited, sleep(20_000).then(() => 'still running' as const)]);
      expect({ code, stderr }).toEqual({ code: 130, stderr: 'mmrace: SIGINT: stopping 2 machines\n' });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
  it('the command killed outright (SIGKILL): its machines end within a second or two', async () => {
    const child = spawn(
      process.execPath,
      ['dist/cli.js', 'repro', ID, '--strategy', 'random', '--runs', '10000000', '--machines', '2'],
      { cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: 'ignore' },
    );
    let hosts: string[] = [];
    try {
      await until(() => hostThreads(child.pid!).filter((n) => n >= 11 + 3).length === 2, 60_000);
      hosts = childPids(child.pid!);
      expect(hosts).toHaveLength(2);
      // Deep in their shards, where a host's event loop may not turn until the shard ends.
      await sleep(3000);
      child.kill('SIGKILL');
      // Each host polls its parent every 250 ms (machine_host.ts watchParent).
      await until(() => hosts.every((p) => !alive(p)), 10_000);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      for (const p of hosts) if (alive(p)) process.kill(Number(p), 'SIGKILL');
    }
  }, 120_000);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `pid`'s child processes (the machine hosts). */
function childPids(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean),
    );
  } catch {
    return [];
  }
}

/** The thread counts of `pid`'s child processes. */
function hostThreads(pid: number): number[] {
  try {
    return childPids(pid).map((c) => readdirSync(`/proc/${c}/task`).length);
  } catch {
    return [];
  }
}

/** A process that still runs: not gone, not a zombie waiting for its reaper. */
function alive(pid: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z';
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`not within ${ms} ms`);
    await sleep(50);
  }
}
