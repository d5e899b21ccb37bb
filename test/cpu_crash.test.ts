// A CPU program that misbehaves in any way is a crash of that CPU: reported with its CPU and what
// it did, promptly, with exit code 3, the other CPUs stopped, never a clean run nor a silent exit.
//
// Every fixture has CPU0 and CPU2 spinning until they are stopped and CPU1 misbehaving after a few
// points. `r.ms < 10_000` bounds a hang (the run timeout is 20 s; a crash that is only noticed at
// the timeout would be reported as a hang after it): it is not a speed test. spawnSync returning a
// status (not killed by its own timeout, no signal) shows the process ended, worker threads with it.
import { afterAll, describe, expect, it } from 'vitest';
import { C, CONTROL_REGION, ctl } from '../src/cpu/control.js';
import { crashLine } from '../src/cpu/crash.js';
import { type CampaignHooks, Machine } from '../src/cpu/machine.js';
import { RandomStrategy } from '../src/cpu/strategies/random.js';
import { type AloneResult, mmraceAlone } from './helpers/cli.js';

const CLI_TIMEOUT_MS = 40_000;

function crashRun(fixture: string, extra: string[] = [], env: Record<string, string> = {}) {
  return mmraceAlone(['run', `test/fixtures/crash/${fixture}.mjs`, ...extra], {
    env,
    timeoutMs: CLI_TIMEOUT_MS,
  });
}

/**
 * Exit 3, CPU1 named with `what`, one `mmrace:` line on stderr, and a process that ended on its
 * own well before the run timeout with nothing of its process group left running.
 */
function expectCrash(r: AloneResult, what: RegExp): void {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(3);
  expect(r.ms).toBeLessThan(10_000);
  expect(r.leftover).toBe(false);
  expect(r.stderr).toMatch(new RegExp(`^mmrace: [\\w-]+ any: CPU1 \\(culprit\\) ${what.source}`));
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.stdout).toMatch(new RegExp(`CPU1 \\(culprit\\) ${what.source}`));
}

describe('a CPU program that misbehaves, through the command', () => {
  it('process.exit(): its stack, exit 3, promptly', async () => {
    const r = await crashRun('process-exit');
    expectCrash(r, /crashed: its program called process\.exit\(7\)/);
    expect(r.stdout).toMatch(/at .*test\/fixtures\/crash\/process-exit\.mjs:\d+/);
  });

  it('process.exit() in controlled mode: the decider is not left waiting for the token', async () => {
    const r = await crashRun('process-exit', ['--mode', 'controlled']);
    expectCrash(r, /crashed: its program called process\.exit\(7\)/);
    expect(r.stdout).toMatch(/at .*test\/fixtures\/crash\/process-exit\.mjs:\d+/);
  });

  it('out of memory: reported on its CPU with the heap limit, not after the run timeout', async () => {
    const r = await crashRun('oom', [], { MMRACE_CPU_HEAP_MB: '32' });
    expectCrash(r, /ran out of memory \(heap limit 32 MB\)/);
  });

  it('out of memory in controlled mode (the worker dies holding the token)', async () => {
    const r = await crashRun('oom', ['--mode', 'controlled'], { MMRACE_CPU_HEAP_MB: '32' });
    expectCrash(r, /ran out of memory \(heap limit 32 MB\)/);
  });

  it.each([
    ['throw-number', '42'],
    ['throw-null', 'null'],
    ['throw-undefined', 'undefined'],
    ['throw-object', "\\{ code: 'EWHATEVER', detail: 'a plain object' \\}"],
  ])('%s: the thrown value is shown', async (fixture, value) => {
    const r = await crashRun(fixture);
    expectCrash(r, new RegExp(`crashed: its program threw ${value}, which is not an Error`));
  });

  it('an async program that throws after an await', async () => {
    const r = await crashRun('async-throw');
    expectCrash(r, /crashed: its program returned a Promise; CPU programs must be synchronous/);
    expect(r.stdout).toMatch(/the Promise rejected: Error: thrown after an await/);
  });

  it('an async program whose Promise resolves is still a crash', async () => {
    const r = await crashRun('async-ok-but-promise');
    expectCrash(r, /crashed: its program returned a Promise; CPU programs must be synchronous/);
  });
});

describe('a CPU program that misbehaves, on the machine (entry module without the scenario layer)', () => {
  const machine = new Machine([CONTROL_REGION]);
  afterAll(() => machine.destroy());
  const jitter = { windows: [], probability: 0, maxSpin: 0, yieldShare: 0, maxYieldUs: 0 };

  async function campaign(culprit: string, mode: 'free' | 'controlled', hooks?: CampaignHooks) {
    const t0 = performance.now();
    const r = await machine.campaign(
      {
        entry: new URL('./fixtures/crash/entry.mjs', import.meta.url).href,
        entryArgs: { culprit },
        ncpus: 3,
        runs: 5,
        seed: 1,
        jitter,
        timeScale: 1,
        runTimeoutMs: 20_000,
        kthreadCpus: [],
        mode,
        ...(mode === 'controlled' ? { strategy: new RandomStrategy() } : {}),
        cpuNames: ['spinner 0', 'culprit', 'spinner 2'],
      },
      hooks ?? { setup() {}, stopKthreads() {}, finish: () => true },
    );
    return { r, ms: performance.now() - t0, line: r.crash ? crashLine(r.crash) : '' };
  }

  it.each([
    'free',
    'controlled',
  ] as const)('%s mode: a Promise that rejects is a crash, with the rejection', async (mode) => {
    const { r, ms, line } = await campaign('async-throw', mode);
    expect(r.timedOut).toBeUndefined();
    expect(line).toMatch(
      /^CPU1 \(culprit\) crashed: its program returned a Promise; CPU programs must be synchronous\nthe Promise rejected: Error: thrown after an await\n\s+at /,
    );
    expect(ms).toBeLessThan(10_000);
  });

  it('a Promise that resolves is a crash too', async () => {
    const { line } = await campaign('async-ok', 'free');
    expect(line).toMatch(/^CPU1 \(culprit\) crashed: its program returned a Promise/);
  });

  it('a hook that throws in a later run stops the CPUs; the next campaign runs', async () => {
    const hooks: CampaignHooks = {
      setup(run) {
        if (run === 2) throw new Error('setup broke');
      },
      stopKthreads() {},
      finish: () => true,
    };
    await expect(campaign('none', 'free', hooks)).rejects.toThrow('setup broke');
    expect(Atomics.load(machine.arena.i32, ctl() + C.STOP)).toBe(1);
    expect(machine.threads).toBe(0); // the CPUs' tasks are not left holding the pool
    const again = await campaign('none', 'free');
    expect(again.r).toMatchObject({ runs: 5 });
    expect(again.r.crash).toBeUndefined();
  });

  it('after a worker died, the next campaign runs on fresh threads', async () => {
    const died = await campaign('process-exit', 'free');
    expect(died.line).toMatch(/^CPU1 \(culprit\) crashed: its program called process\.exit\(9\)/);
    expect(machine.threads).toBe(0); // the pool was dropped
    const again = await campaign('process-exit', 'controlled');
    expect(again.line).toMatch(/^CPU1 \(culprit\) crashed: its program called process\.exit\(9\)/);
    expect(Atomics.load(machine.arena.i32, ctl() + C.STOP)).toBe(1);
  });
});
