// Scheduling decisions on the CPU threads (cpu/controlled.ts, decide.ts) against the main thread
// making every one (MMRACE_DECIDE=main, the design before): the same campaigns give the same
// schedules, hits, explored counts and reports, through the CLI as users run them. Runs are
// deterministic in controlled mode, so the comparisons are exact.
import { afterAll, describe, expect, it } from 'vitest';
import { AbortReason } from '../src/cpu/control.js';
import { Machine, type RunOutcome } from '../src/cpu/machine.js';
import { makeStrategy, type StrategyConfig } from '../src/cpu/strategies/index.js';
import { kernelReset, machineRegions, SCENARIO_GLOBALS } from '../src/scenarios/kernel_image.js';
import { mem } from '../src/shm/arena.js';
import { json, mmrace } from './helpers/cli.js';

const ID = 'oom-reaper-vs-exit-mmap-2017';

type Row = {
  observed: string;
  hits: number;
  runs: number;
  explored: number;
  schedule: string | null;
  firstHit: { seed: number; summary: string; dmesg: string[] } | null;
  error: string | null;
};

const both = (args: string[], timeoutMs = 60_000): [Row, Row] => {
  const rows = ['cpus', 'main'].map((on) => {
    const r = mmrace([...args, '--json'], timeoutMs, { MMRACE_DECIDE: on });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return json<{ rows: Row[] }>(r).rows[0]!;
  });
  return [rows[0]!, rows[1]!];
};

const stamps = (d: string[] | undefined) => (d ?? []).map((l) => l.replace(/^\[[ \d.]+\] /, ''));

describe('decisions on the CPU threads make the main thread’s schedules', () => {
  it('PCT on the 2017 v4.14 variant (3 CPUs, a kthread the main thread stops): same hits and schedule', () => {
    const [cpus, main] = both([
      'repro',
      ID,
      '--variant',
      'v4.14',
      '--strategy',
      'pct',
      '--runs',
      '40',
      '--seed',
      '1',
    ]);
    expect(cpus.hits).toBeGreaterThan(0);
    expect(cpus).toMatchObject({ hits: main.hits, runs: 40, schedule: main.schedule, error: null });
    expect(cpus.firstHit!.seed).toBe(main.firstHit!.seed);
  }, 150_000);

  // The path DFS takes depends on every decision: the same schedules in the same order, up to the
  // same first failing one (61 of them). v4.15's whole clean space is controlled.test.ts's.
  it('DFS with preemption bound 1 on v4.14 explores the same schedules up to the same first failure', () => {
    const args = ['repro', ID, '--variant', 'v4.14', '--strategy', 'dfs', '--preemptions', '1'];
    const [cpus, main] = both([...args, '--stop-on-hit', '--runs', '100000'], 120_000);
    expect(cpus.explored).toBeGreaterThan(20);
    expect(cpus).toMatchObject({
      observed: 'reproduces',
      hits: 1,
      explored: main.explored,
      schedule: main.schedule,
      error: null,
    });
  }, 150_000);

  it('a deadlock is reported alike: the same schedule and the same report lines', () => {
    const args = ['run', 'test/fixtures/abba.mjs', '--variant', 'rendezvous', '--strategy', 'random'];
    const [cpus, main] = both([...args, '--runs', '5', '--seed', '3']);
    expect(cpus.hits).toBeGreaterThan(0);
    expect(cpus.schedule).toBe(main.schedule);
    const report = stamps(cpus.firstHit?.dmesg);
    expect(report).toContain('INFO: deadlock: no CPU can run and no timer is pending');
    expect(report).toEqual(stamps(main.firstHit?.dmesg));
  }, 150_000);

  it('a spin deadlock (only spinners for 10 000 decisions) too', () => {
    const args = ['run', 'test/fixtures/spin-abba.mjs', '--strategy', 'random', '--runs', '3', '--seed', '1'];
    const [cpus, main] = both(args);
    expect(cpus.hits).toBeGreaterThan(0);
    const report = stamps(cpus.firstHit?.dmesg);
    expect(report.some((l) => l.startsWith('INFO: deadlock: only spinning CPUs could run'))).toBe(true);
    expect(cpus.schedule).toBe(main.schedule);
    expect(report).toEqual(stamps(main.firstHit?.dmesg));
  }, 150_000);

  it('a replay that leaves its schedule stops with the strategy’s own words', () => {
    const args = ['repro', ID, '--variant', 'v4.14', '--replay', 'S1:3:a5', '--runs', '1'];
    const [cpus, main] = ['cpus', 'main'].map((on) => mmrace(args, 60_000, { MMRACE_DECIDE: on }));
    expect(cpus!.stderr).toMatch(
      /stopped: run 0: schedule diverged: the run went on past the schedule's 5 decisions/,
    );
    expect([cpus!.code, cpus!.stderr]).toEqual([main!.code, main!.stderr]);
  }, 150_000);
});

describe('who decides (machine level)', () => {
  const machine = new Machine(machineRegions(64));
  afterAll(() => machine.destroy());

  /** Decisions on the CPUs with `cfg`, else on the main thread with the same strategy. */
  const campaign = async (cfg: StrategyConfig, onCpus: boolean, kthread: boolean) => {
    const outcomes: RunOutcome[] = [];
    const strategy = makeStrategy(cfg);
    const g = SCENARIO_GLOBALS.base() + SCENARIO_GLOBALS.layout.g;
    await machine.campaign(
      {
        entry: new URL('./fixtures/points.mjs', import.meta.url).href,
        entryArgs: { kthread },
        ncpus: 3,
        runs: 4,
        seed: 5,
        jitter: { windows: [], probability: 0, maxSpin: 0, yieldShare: 0, maxYieldUs: 0 },
        timeScale: 1,
        runTimeoutMs: 20_000,
        kthreadCpus: kthread ? [0] : [],
        mode: 'controlled',
        strategy,
        ...(onCpus ? { strategyConfig: cfg } : {}),
      },
      {
        setup() {
          kernelReset();
          Atomics.store(mem.i32, g, 0);
        },
        stopKthreads() {
          Atomics.store(mem.i32, g, 1);
        },
        finish(o) {
          outcomes.push(o);
          // As campaign.ts does: the CPUs' copies end every run themselves (PCT learns its bound).
          return strategy.endRun({ steps: o.picks!.length, failed: false });
        },
      },
    );
    return outcomes;
  };

  it('with the strategy’s configuration the CPUs decide: the main thread makes only the first decision', async () => {
    // random: no run-ahead, so on the main thread every decision is the main thread's.
    const cfg: StrategyConfig = { name: 'random' };
    const onCpus = await campaign(cfg, true, false);
    const onMain = await campaign(cfg, false, false);
    expect(onCpus.map((o) => o.picks)).toEqual(onMain.map((o) => o.picks));
    for (const [i, o] of onCpus.entries()) {
      expect(o.abort).toBe(AbortReason.None);
      expect(o.picks!.length).toBeGreaterThan(60);
      expect(o.mainDecisions).toBe(1);
      expect(onMain[i]!.mainDecisions).toBe(o.picks!.length + 1); // and the one that finds all exited
    }
  });

  it('a kthread CPU: a CPU hands the main thread the token once, to stop it', async () => {
    const cfg: StrategyConfig = { name: 'pct', depth: 3 };
    const onCpus = await campaign(cfg, true, true);
    const onMain = await campaign(cfg, false, true);
    expect(onCpus.map((o) => o.picks)).toEqual(onMain.map((o) => o.picks));
    for (const o of onCpus) {
      expect(o.abort).toBe(AbortReason.None);
      expect(o.mainDecisions).toBe(2);
    }
  });
});
