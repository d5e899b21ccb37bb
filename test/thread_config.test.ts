// The machine-wide switches read on every lock operation and checked access (lockdep's config
// word, KASAN on lock words) are thread-local copies (src/shm/thread_config.ts): the thread that
// flips one sees it at once, every CPU sees it from its next run, and attaching another machine
// gives that machine's switches.
import { afterAll, describe, expect, it } from 'vitest';
import { Machine } from '../src/cpu/machine.js';
import {
  LOCK_STAT,
  lock_stat_enable,
  lockDebugFlags,
  lockdep_enable,
  lockdepEnabled,
  PROVE_LOCKING,
} from '../src/kernel/locking/lockdep_state.js';
import { kasan_instrument_atomics, kasanAtomicsInstrumented } from '../src/mm/kasan.js';
import { kernelReset, machineRegions, readGlobals } from '../src/scenarios/kernel_image.js';

const NCPUS = 3;
const names = Array.from({ length: 2 * NCPUS }, (_, i) => `g${i}`);

describe('thread-local copies of the machine-wide switches', () => {
  const machine = new Machine(machineRegions(64));
  afterAll(async () => {
    machine.attach();
    lockdep_enable(false);
    lock_stat_enable(false);
    kasan_instrument_atomics(true);
    await machine.destroy();
  });

  it('the thread that flips a switch sees it at once', () => {
    machine.attach();
    kernelReset();
    expect(lockDebugFlags()).toBe(0);
    expect(kasanAtomicsInstrumented()).toBe(true);
    lockdep_enable(true);
    expect(lockDebugFlags()).toBe(PROVE_LOCKING);
    lock_stat_enable(true);
    expect(lockDebugFlags()).toBe(PROVE_LOCKING | LOCK_STAT);
    lockdep_enable(false);
    expect(lockDebugFlags()).toBe(LOCK_STAT);
    lock_stat_enable(false);
    expect(lockDebugFlags()).toBe(0);
    kasan_instrument_atomics(false);
    expect(kasanAtomicsInstrumented()).toBe(false);
    kasan_instrument_atomics(true);
    expect(kasanAtomicsInstrumented()).toBe(true);
  });

  it('attaching another machine gives its switches; attaching back, the first one again', () => {
    machine.attach();
    lockdep_enable(true);
    kasan_instrument_atomics(false);
    const other = new Machine(machineRegions(64)); // its constructor attaches it
    expect(lockDebugFlags()).toBe(0);
    expect(kasanAtomicsInstrumented()).toBe(true);
    machine.attach();
    expect(lockdepEnabled()).toBe(true);
    expect(kasanAtomicsInstrumented()).toBe(false);
    lockdep_enable(false);
    kasan_instrument_atomics(true);
    void other.destroy();
  });

  it.each([
    'free',
    'controlled',
  ] as const)('%s mode: every CPU runs each run with the switches the main thread set before it', async (mode) => {
    // Run r: lockdep on in odd runs, lock_stat in runs 2 and 3, KASAN on lock words off in run 1.
    const want = (run: number) => ({
      flags: (run & 1 ? PROVE_LOCKING : 0) | (run === 2 || run === 3 ? LOCK_STAT : 0),
      kasan: run === 1 ? 0 : 1,
    });
    const seen: { flags: number; kasan: number }[][] = [];
    const { RandomStrategy } = await import('../src/cpu/strategies/random.js');
    const r = await machine.campaign(
      {
        entry: new URL('./fixtures/thread-config.mjs', import.meta.url).href,
        entryArgs: {},
        ncpus: NCPUS,
        runs: 5,
        seed: 1,
        jitter: { windows: [], probability: 0, maxSpin: 0, yieldShare: 0, maxYieldUs: 0 },
        timeScale: 1,
        runTimeoutMs: 20_000,
        kthreadCpus: [],
        mode,
        ...(mode === 'controlled' ? { strategy: new RandomStrategy() } : {}),
      },
      {
        setup(run) {
          kernelReset();
          const w = want(run);
          lockdep_enable((w.flags & PROVE_LOCKING) !== 0);
          lock_stat_enable((w.flags & LOCK_STAT) !== 0);
          kasan_instrument_atomics(w.kasan === 1);
        },
        stopKthreads() {},
        finish() {
          const g = readGlobals(names);
          seen.push(
            Array.from({ length: NCPUS }, (_, cpu) => ({
              flags: g[`g${2 * cpu}`]!,
              kasan: g[`g${2 * cpu + 1}`]!,
            })),
          );
          return true;
        },
      },
    );
    expect(r.crash).toBeUndefined();
    expect(seen).toEqual([0, 1, 2, 3, 4].map((run) => Array.from({ length: NCPUS }, () => want(run))));
    // The main thread's copy after the campaign (Machine.attach() refreshed it): run 4's.
    expect(lockDebugFlags()).toBe(0);
    expect(kasanAtomicsInstrumented()).toBe(true);
  });
});
