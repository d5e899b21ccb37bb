// Snapshot after setup (scenarios/run_setup.ts): a run that restores a setupOnce scenario's arena
// starts from the very words a fresh setup builds, for every built-in scenario in every era.
// (Verdicts, schedules and replays with snapshots on and off: test/run_setup_campaign.test.ts.)
import { describe, expect, it } from 'vitest';
import { emulatedNow } from '../src/cpu/clock.js';
import { CONTROL_REGION } from '../src/cpu/control.js';
import { Machine } from '../src/cpu/machine.js';
import { ERAS, type EraProfile, eraByName } from '../src/eras/index.js';
import { spawnTask } from '../src/kernel/fork.js';
import { lockStatClear } from '../src/kernel/locking/lock_stat.js';
import { lockdepClassesReset } from '../src/kernel/locking/lockdep_classes.js';
import { lock_stat_enable } from '../src/kernel/locking/lockdep_state.js';
import { KERN_INFO, printk } from '../src/kernel/printk.js';
import { BUILTIN, soakEntries } from '../src/scenarios/catalogue.js';
import { KEPT_ACROSS_RUNS, machineRegions, runStateRanges } from '../src/scenarios/kernel_image.js';
import { prepareRunSetup, takeSnapshot } from '../src/scenarios/run_setup.js';
import type { Scenario, Variant } from '../src/scenarios/scenario.js';
import { mem } from '../src/shm/arena.js';
import { ArenaSnapshot } from '../src/shm/arena_snapshot.js';

const scenarios = [...BUILTIN, ...soakEntries()].map((e) => e.scenario);
const machine = new Machine(machineRegions(256));
/** One copy of the whole arena, reused (it is 70 MB, most of it --record's buffers). */
const copy = new Int32Array(machine.arena.words);

function arenaCopy(): Int32Array {
  copy.set(mem.i32);
  return copy;
}

/** The control block differs by design: a restore sets the boot epoch (the clock). */
const NOT_COMPARED = [CONTROL_REGION.name];

function comparedRanges(): { start: number; end: number }[] {
  const skip = new Set(NOT_COMPARED);
  const out: { start: number; end: number }[] = [{ start: 0, end: mem.arena.regions[0]!.base }];
  for (const r of mem.arena.regions)
    if (!skip.has(r.name)) out.push({ start: r.base, end: r.base + r.words });
  return out;
}

/** Words [start, end) of `a` as bytes, for one memcmp. */
const bytes = (a: Int32Array, start: number, end: number) =>
  Buffer.from(a.buffer, a.byteOffset + start * 4, (end - start) * 4);

/** The first word (and its region) where the arena differs from `copy`, or null. */
function firstDiff(restored: Int32Array): string | null {
  const i32 = mem.i32;
  for (const r of comparedRanges()) {
    // The word-by-word walk (~70 M words) only runs to name a difference.
    if (bytes(i32, r.start, r.end).equals(bytes(restored, r.start, r.end))) continue;
    for (let w = r.start; w < r.end; w++)
      if (i32[w] !== restored[w]) {
        const region = mem.arena.regions[mem.arena.regionOf(w)]?.name ?? 'header';
        return `word ${w} (${region}): restored ${restored[w]}, fresh setup ${i32[w]}`;
      }
  }
  return null;
}

/**
 * Switches whose garbage would change what setup does (lockdep, lock_stat, rwsem spinning, KASAN's
 * atomics check), and the string table, which every thread's intern cache trusts.
 */
const SPARED = [CONTROL_REGION.name, 'strtab', 'data:lockdep', 'data:rwsem_config', 'data:kasan'];

/**
 * Worse than any run: garbage in every word but the spared regions' (their per-run words too), and
 * the pid counter moved on. A word setup builds that the snapshot missed stays garbage.
 */
function scribble(): void {
  spawnTask('scribbler');
  const spared = new Set(SPARED);
  for (const r of mem.arena.regions)
    if (!spared.has(r.name)) mem.i32.fill(0x5a5a5a5a, r.base, r.base + r.words);
  for (const r of runStateRanges()) mem.i32.fill(0x5a5a5a5a, r.start, r.end);
}

/** Every declared variant on its era, and the first variant on each other era (the era matrix). */
function variantsOf(s: Scenario): [Variant, EraProfile][] {
  const declared = s.variants.map((v): [Variant, EraProfile] => [v, eraByName(v.era)!]);
  const others = ERAS.filter((e) => !s.variants.some((v) => v.era === e.name));
  return [...declared, ...others.map((e): [Variant, EraProfile] => [{ ...s.variants[0]!, era: e.name }, e])];
}

function pidCounter(): unknown {
  return new ArenaSnapshot([]).mirrorState().get('fork.nextPid');
}

describe('snapshot after setup', () => {
  it('every built-in scenario declares setupOnce, and every kept region exists', () => {
    expect(scenarios.map((s) => [s.id, s.setupOnce])).toEqual(scenarios.map((s) => [s.id, true]));
    machine.attach();
    for (const name of KEPT_ACROSS_RUNS) expect(mem.arena.findRegion(name), name).toBeDefined();
  });

  for (const s of scenarios) {
    it(`${s.id}: in every era, a restored arena is word for word the arena a fresh setup builds`, () => {
      machine.attach();
      let compared = 0;
      for (const [v, era] of variantsOf(s)) {
        let setup: ReturnType<typeof prepareRunSetup>;
        try {
          setup = prepareRunSetup(s, v, era, true);
        } catch (e) {
          // An era whose kernel the scenario's setup cannot run on is not in its matrix either.
          if (e instanceof Error && !/setupOnce/.test(e.message)) continue;
          throw e;
        }
        expect(setup.kind).toBe('snapshot');
        scribble();
        const globals = setup.beforeRun(7);
        // Read at once: on a loaded host the 70 MB copy below once took over a second.
        const startsAt = emulatedNow();
        const restored = arenaCopy();
        const pids = pidCounter();
        expect(Math.abs(startsAt - setup.clockMs!)).toBeLessThan(1000);
        const fresh = takeSnapshot(s, v, era, setup.clockMs!);
        expect(firstDiff(restored), `${s.id} on ${era.name}`).toBeNull();
        expect(globals).toEqual(fresh.globals);
        expect(pids).toEqual(fresh.snap.mirrorState().get('fork.nextPid'));
        compared++;
      }
      expect(compared).toBeGreaterThan(ERAS.length / 2);
    });
  }

  it('a restore puts back what a run changed (the check above would see a word left behind)', () => {
    machine.attach();
    const s = scenarios[0]!;
    const setup = prepareRunSetup(s, s.variants[0]!, ERAS.find((e) => e.name === s.variants[0]!.era)!, true);
    const before = arenaCopy();
    scribble();
    expect(firstDiff(before)).not.toBeNull();
    setup.beforeRun(1);
    expect(firstDiff(before)).toBeNull();
  });

  it.each([
    ['a task more', /region slab:/, () => spawnTask('one more')],
    ['a log line more', /region log\)/, () => printk(KERN_INFO, 'once more')],
  ])('a setupOnce setup that keeps state in its module (%s) is refused, naming the word', (_, where, more) => {
    machine.attach();
    const s0 = scenarios[0]!;
    let calls = 0;
    const s: Scenario = {
      ...s0,
      setup(g, v) {
        s0.setup(g, v);
        if (++calls > 1) more();
      },
    };
    const era = eraByName(s0.variants[0]!.era)!;
    const refused = /declares setupOnce, but a second setup built another arena \(word \d+, /;
    expect(() => prepareRunSetup(s, s0.variants[0]!, era, true)).toThrow(refused);
    calls = 0;
    expect(() => prepareRunSetup(s, s0.variants[0]!, era, true)).toThrow(where);
  });

  it('without setupOnce, or with snapshots off, setup runs before every run', () => {
    machine.attach();
    const s0 = scenarios[0]!;
    let calls = 0;
    const s: Scenario = { ...s0, setupOnce: false, setup: (g, v) => (calls++, s0.setup(g, v)) };
    const era = ERAS.find((e) => e.name === s0.variants[0]!.era)!;
    for (const [sc, on] of [
      [s, true],
      [{ ...s, setupOnce: true }, false],
    ] as const) {
      calls = 0;
      const setup = prepareRunSetup(sc, s0.variants[0]!, era, on);
      setup.beforeRun(0);
      setup.beforeRun(1);
      expect(setup.kind).toBe('per-run');
      expect(calls).toBe(3);
    }
  });

  it('MMRACE_SNAPSHOT=0 turns snapshots off (test/run_setup_campaign.test.ts compares the two)', () => {
    machine.attach();
    const s = scenarios[0]!;
    const v = s.variants[0]!;
    const era = eraByName(v.era)!;
    const saved = process.env.MMRACE_SNAPSHOT;
    try {
      delete process.env.MMRACE_SNAPSHOT;
      expect(prepareRunSetup(s, v, era).kind).toBe('snapshot');
      process.env.MMRACE_SNAPSHOT = '0';
      expect(prepareRunSetup(s, v, era).kind).toBe('per-run');
    } finally {
      if (saved === undefined) delete process.env.MMRACE_SNAPSHOT;
      else process.env.MMRACE_SNAPSHOT = saved;
    }
  });

  it("lock_stat on: setup before every run, so its counters see every run's setup", () => {
    machine.attach();
    const s = scenarios[0]!;
    const v = s.variants[0]!;
    // The scribbles above left garbage in the class and statistics tables lock_stat uses.
    lockdepClassesReset();
    lockStatClear();
    lock_stat_enable(true);
    try {
      expect(prepareRunSetup(s, v, eraByName(v.era)!, true).kind).toBe('per-run');
    } finally {
      lock_stat_enable(false);
    }
    expect(prepareRunSetup(s, v, eraByName(v.era)!, true).kind).toBe('snapshot');
  });
});
