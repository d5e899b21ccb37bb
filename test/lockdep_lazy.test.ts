// lockdep's lazy sites (lockdep_ip.ts LAZY_IP): a CPU of a controlled run captures no stack per
// acquisition nor per new dependency, its reports print the sites as unresolved, and the campaign
// replays the first hit for them (scenarios/report_replay.ts). Stack captures are counted
// machine-wide (lockdepCaptures()), so "none" is a count, not a time. Here on the boot CPU under
// a runner that says it is controlled, then on the CPU workers of the built command in a child
// process: the replayed reports print the same sites, line for line, as runs that captured every
// site when it was taken.
import { afterEach, describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import type { Runner } from '../src/cpu/runner.js';
import { mm_alloc, spawnTask } from '../src/kernel/fork.js';
import { lockdepReset } from '../src/kernel/locking/lockdep.js';
import { hasLazySite } from '../src/kernel/locking/lockdep_ip.js';
import {
  lazySites,
  lockdep_enable,
  lockdepCaptures,
  lockdepLazySites,
} from '../src/kernel/locking/lockdep_state.js';
import { spin_lock, spin_lock_init, spin_unlock } from '../src/kernel/locking/spinlock.js';
import { MM } from '../src/mm/mm_types.js';
import { refreshThreadConfig } from '../src/shm/thread_config.js';
import { boot } from './helpers/boot.js';
import { runDistScript } from './helpers/dist_script.js';

const CIRCULAR = 'WARNING: possible circular locking dependency detected';

/** The boot runner, except that it says it runs a controlled run (nothing here blocks). */
function controlledBoot(inner: Runner): Runner {
  return {
    mode: 'controlled',
    point: (id) => inner.point(id),
    wait: (addr, expected, timeoutMs) => inner.wait(addr, expected, timeoutMs),
    wake: (addr, count) => inner.wake(addr, count),
    relax: (spins) => inner.relax(spins),
    now: () => inner.now(),
  };
}

const bootRunner = cpuCtx.runner;

afterEach(() => {
  lockdepLazySites(false);
  lockdep_enable(false);
  cpuCtx.runner = bootRunner;
  refreshThreadConfig();
  cpuCtx.current = 0;
});

function lock_in_order(first: number, second: number): void {
  spin_lock(first);
  spin_lock(second);
  spin_unlock(second);
  spin_unlock(first);
}

/** Task a takes outer then inner, task b inner then outer: lockdep's AB-BA report. */
function inversion(lazy: boolean) {
  const { dmesg } = boot();
  lockdepReset();
  lockdep_enable(true);
  lockdepLazySites(lazy);
  cpuCtx.runner = controlledBoot(bootRunner);
  refreshThreadConfig(); // as a CPU does at the start of a run
  const outer = mm_alloc() + MM.page_table_lock;
  const inner = mm_alloc() + MM.page_table_lock;
  spin_lock_init(outer, 'mm->page_table_lock');
  spin_lock_init(inner, 'ptlock');
  const a = spawnTask('task-a');
  const b = spawnTask('task-b');
  const before = lockdepCaptures();
  cpuCtx.current = a;
  lock_in_order(outer, inner);
  cpuCtx.current = b;
  lock_in_order(inner, outer);
  const after = lockdepCaptures();
  return {
    log: dmesg(),
    sites: after.sites - before.sites,
    traces: after.traces - before.traces,
  };
}

describe('lazy sites on a CPU of a controlled run', () => {
  it('no stack captured per acquisition or new edge; the report leaves every site and trace to the replay', () => {
    const lazy = inversion(true);
    expect(lazySites()).toBe(true);
    expect(lazy.log).toContain(CIRCULAR);
    expect({ sites: lazy.sites, traces: lazy.traces }).toEqual({ sites: 0, traces: 0 });
    const at = lazy.log.indexOf(CIRCULAR);
    const report = lazy.log.slice(at);
    const unresolved = report.filter(hasLazySite);
    // trying to acquire, already holding, the edge of the chain, the new edge, the held lock
    expect(unresolved).toHaveLength(5);
    expect(report.filter((l) => /, at: <site: replay the run>$/.test(l))).toHaveLength(3);
    expect(report.filter((l) => l === '       <trace: replay the run>')).toHaveLength(2);
  });

  it('without lazy sites (or outside a controlled run): each acquisition and each new edge captures', () => {
    const eager = inversion(false);
    expect(lazySites()).toBe(false);
    // four acquisitions, two new edges (the second closes the cycle: its trace is the report's)
    expect({ sites: eager.sites, traces: eager.traces }).toEqual({ sites: 4, traces: 2 });
    expect(eager.log.filter(hasLazySite)).toEqual([]);
    expect(
      eager.log.filter((l) => /, at: lock_in_order \(test\/lockdep_lazy\.test\.ts:\d+\)$/.test(l)),
    ).toHaveLength(3);
  });
});

type Campaign = { hits: number; runs: number; sites: number; traces: number; log: string[] | null };

/**
 * In a child process, on the built command's CPU workers with lockdep on: `fixture`'s `variant`
 * in controlled campaigns of 3 and 6 runs with lazy sites, 3 runs capturing every site, and one
 * free run; with `real`, the 2017 scenario's v4.15 in controlled campaigns of 10 and 20 runs.
 */
function campaigns(fixture: string, variant: string, real = false): Record<string, Campaign> {
  const script = `
    import { findScenario, loadScenarioFile, lockdep_enable, runVariant, sharedMachine, shutdownMachine } from './dist/src/index.js';
    import { lockdepCaptures } from './dist/src/kernel/locking/lockdep_state.js';
    const e = await loadScenarioFile('test/fixtures/${fixture}.mjs');
    const m = sharedMachine();
    m.attach();
    lockdep_enable(true);
    const controlled = (runs, strategy) => ({ runs, seed: 3, mode: 'controlled', strategy: { name: strategy } });
    async function campaign(e, variant, opts) {
      m.attach();
      const a = lockdepCaptures();
      const r = await runVariant(m, e.scenario, e.scenario.variants.find((v) => v.name === variant), opts, e.url);
      m.attach();
      const b = lockdepCaptures();
      return { hits: r.hits, runs: r.runs, sites: b.sites - a.sites, traces: b.traces - a.traces, log: r.firstHit?.log.map((x) => x.text) ?? null };
    }
    const out = {};
    out.lazy3 = await campaign(e, '${variant}', controlled(3, 'random'));
    out.lazy6 = await campaign(e, '${variant}', controlled(6, 'random'));
    out.eager3 = await campaign(e, '${variant}', { ...controlled(3, 'random'), replayForReport: false });
    out.free1 = await campaign(e, '${variant}', { runs: 1, seed: 3 });
    const real = findScenario('oom-reaper-vs-exit-mmap-2017');
    if (${real}) for (const runs of [10, 20]) out['real' + runs] = await campaign(real, 'v4.15', { ...controlled(runs, 'pct'), seed: 1 });
    lockdep_enable(false);
    await shutdownMachine();
    console.log(JSON.stringify(out));
  `;
  return runDistScript<Record<string, Campaign>>(script, 120_000);
}

/**
 * Every campaign failed every run; the lazy ones captured only what their replay did (one run's
 * worth, the same for 3 runs as for 6). A free run is compared only where it cannot interleave
 * differently (one CPU): on two CPUs a free run may add another dependency, so another trace.
 */
function capturesOnlyOnReplay(c: Record<string, Campaign>): void {
  for (const k of ['lazy3', 'lazy6', 'eager3', 'free1']) expect(c[k]!.hits, k).toBe(c[k]!.runs);
  const once = [c.lazy3!.sites, c.lazy3!.traces];
  expect(once[0]).toBeGreaterThan(0);
  expect([c.lazy6!.sites, c.lazy6!.traces]).toEqual(once);
  // Each eager run captured its own (more than twice the replay's in three runs).
  expect(c.eager3!.sites).toBeGreaterThan(2 * once[0]!);
  expect(c.eager3!.traces).toBeGreaterThan(2 * once[1]!);
}

/** The 2017 scenario (its setup runs once, on the main thread): ten more runs, no more captures. */
function noCapturesPerRun(c: Record<string, Campaign>): void {
  expect(c.real20!.hits).toBe(0);
  expect([c.real20!.sites, c.real20!.traces]).toEqual([c.real10!.sites, c.real10!.traces]);
}

describe('on the CPU workers of the built command', () => {
  it('a circular dependency: the replayed report is the eager one, line for line, at the fixture lines', () => {
    const c = campaigns('user-lockdep', 'any', true);
    capturesOnlyOnReplay(c);
    noCapturesPerRun(c);
    // One CPU: every run is the same, and captures the same as the replay.
    expect([c.eager3!.sites, c.eager3!.traces]).toEqual([3 * c.free1!.sites, 3 * c.free1!.traces]);
    expect([c.lazy3!.sites, c.lazy3!.traces]).toEqual([c.free1!.sites, c.free1!.traces]);
    const log = c.lazy3!.log!;
    expect(log).toEqual(c.eager3!.log);
    expect(log).toEqual(c.free1!.log);
    expect(log).toContain(CIRCULAR);
    expect(log.filter(hasLazySite)).toEqual([]);
    expect(log.filter((l) => /, at: run \(test\/fixtures\/user-lockdep\.mjs:\d+\)$/.test(l))).toHaveLength(3);
  }, 150_000);

  it("a deadlock: lockdep's splat and the held locks of the deadlock report, resolved by the replay", () => {
    const c = campaigns('abba', 'rendezvous');
    capturesOnlyOnReplay(c);
    const log = c.lazy3!.log!;
    expect(log).toEqual(c.eager3!.log);
    expect(log).toContain(CIRCULAR);
    expect(log).toContain('INFO: deadlock: no CPU can run and no timer is pending');
    expect(log.filter(hasLazySite)).toEqual([]);
    expect(
      log.filter((l) => /^ #[01]: .*, at: take \(test\/fixtures\/abba\.mjs:\d+\)$/.test(l)).length,
    ).toBeGreaterThanOrEqual(4);
  }, 150_000);
});
