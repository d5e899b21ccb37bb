// The decision log (cpu/decision_log.ts): entries round-trip, and a copy of a strategy that replays
// the log makes the writer's picks, run after run, including the state a strategy carries across
// runs (PCT's step bound, DFS's stack) and a copy made mid-campaign from strategyState(). A copy
// that is not the writer's (another PCT depth) is caught at the first pick that differs.
import { describe, expect, it } from 'vitest';
import { DecisionLog, HaltWhy, type LogEntry, LogKind, StrategyCopy } from '../src/cpu/decision_log.js';
import { rng } from '../src/cpu/prng.js';
import { makeStrategy, type StrategyConfig } from '../src/cpu/strategies/index.js';
import { type Strategy, strategyState } from '../src/cpu/strategy.js';

describe('decision log entries', () => {
  it('round-trip every kind, at the field limits, across the ring end', () => {
    const log = DecisionLog.create(4); // capacity 1032 entries
    for (let i = 0; i < 1030; i++) log.ahead(0, 1); // the next entries wrap
    const at = log.head();
    log.pick(-1, 15, 0xffff);
    log.spin(15, 3);
    log.ahead(9, 2_000_000);
    log.begin(0xfffffffe, 16);
    log.halt(HaltWhy.DeadlockSpinning, 7, 0b1010);
    const e: LogEntry = { kind: LogKind.Pick, from: 0, cpu: 0, mask: 0, n: 0, seed: 0 };
    let p = log.read(at, e);
    expect(e).toMatchObject({ kind: LogKind.Pick, from: -1, cpu: 15, mask: 0xffff });
    p = log.read(p, e);
    expect(e).toMatchObject({ kind: LogKind.Spin, from: 15, cpu: 3 });
    p = log.read(p, e);
    expect(e).toMatchObject({ kind: LogKind.Ahead, cpu: 9, n: 2_000_000 });
    p = log.read(p, e);
    expect(e).toMatchObject({ kind: LogKind.Begin, n: 16, seed: 0xfffffffe });
    p = log.read(p, e);
    expect(e).toMatchObject({ kind: LogKind.Halt, from: 7, n: HaltWhy.DeadlockSpinning, mask: 0b1010 });
    expect(p).toBe(log.head());
  });
});

const NCPUS = 3;

/** The runnable CPUs at decision `step`: the same in every run (DFS needs deterministic runs). */
function runnableAt(step: number): number[] {
  const r = rng(step + 1);
  const set = [...Array(NCPUS).keys()].filter(() => r() < 0.7);
  return set.length > 0 ? set : [step % NCPUS];
}

/**
 * One run decided as decide.ts does: the strategy picks, run-ahead grants are used (up to 3),
 * every 9th decision is a spinner-only one the scheduler takes itself. Runs have different lengths
 * (30..150 decisions), so PCT's step bound moves.
 */
function decideRun(writer: Strategy, log: DecisionLog, run: number): number[] {
  writer.beginRun(1000 + run, NCPUS);
  log.begin(1000 + run, NCPUS);
  const len = 30 + ((run * 37) % 121);
  const picks: number[] = [];
  for (let from = -1; picks.length < len; ) {
    const runnable = runnableAt(picks.length);
    if (picks.length % 9 === 8) {
      writer.ranAhead?.(runnable[0]!, picks.length, 1);
      log.spin(from, runnable[0]!);
      picks.push((from = runnable[0]!));
      continue;
    }
    const pick = writer.pick(runnable, from, picks.length);
    const ahead = Math.min(writer.runAhead?.(pick, picks.length) ?? 0, 3, len - picks.length - 1);
    log.pick(
      from,
      pick,
      runnable.reduce((m, c) => m | (1 << c), 0),
    );
    picks.push((from = pick));
    if (ahead > 0) {
      writer.ranAhead?.(pick, picks.length, ahead);
      log.ahead(pick, ahead);
      for (let i = 0; i < ahead; i++) picks.push(pick);
    }
  }
  writer.endRun({ steps: picks.length, failed: false });
  return picks;
}

const configs: StrategyConfig[] = [
  { name: 'random' },
  { name: 'roundrobin' },
  { name: 'pct', depth: 3 },
  { name: 'dfs', preemptions: 2 },
  { name: 'replay', schedule: 'S1:3:a3b2c40', onDivergence: 'random' },
];

describe('a strategy copy replaying the log', () => {
  for (const cfg of configs) {
    it(`${cfg.name}: makes the writer's picks in every run, from the first run and from a mid-campaign copy`, () => {
      const log = DecisionLog.create(1000);
      const writer = makeStrategy(cfg);
      const copy = new StrategyCopy(makeStrategy(cfg), log, true, true);
      let late: StrategyCopy | null = null;
      const distinct = new Set<string>();
      for (let run = 0; run < 16; run++) {
        if (run === 8) {
          // A campaign that starts now (a shard after its probe run): the state crosses as data.
          const state = structuredClone(strategyState(writer));
          late = new StrategyCopy(Object.assign(makeStrategy(cfg), state), log, true, true);
        }
        const picks = decideRun(writer, log, run);
        distinct.add(picks.join(''));
        copy.catchUp();
        expect(copy.picks).toEqual(picks);
        if (late) {
          late.catchUp();
          expect(late.picks).toEqual(picks);
        }
      }
      // Not a constant schedule (roundrobin and replay excepted, whose picks the sets decide).
      if (cfg.name === 'random' || cfg.name === 'pct' || cfg.name === 'dfs')
        expect(distinct.size).toBeGreaterThan(4);
    });
  }

  it('PCT learns its step bound from the runs, and the copy with it', () => {
    const log = DecisionLog.create(1000);
    const writer = makeStrategy({ name: 'pct', depth: 2 });
    const copy = new StrategyCopy(makeStrategy({ name: 'pct', depth: 2 }), log, true, true);
    for (let run = 0; run < 6; run++) decideRun(writer, log, run);
    copy.catchUp();
    decideRun(writer, log, 6); // the copy ends run 5 (and learns from it) at run 6's Begin
    copy.catchUp();
    expect((writer as unknown as { stepBound: number }).stepBound).toBeGreaterThan(64);
    expect((copy.strategy as unknown as { stepBound: number }).stepBound).toBe(
      (writer as unknown as { stepBound: number }).stepBound,
    );
  });

  it('a copy that is not the writer’s strategy is caught at the first pick that differs', () => {
    const log = DecisionLog.create(1000);
    const writer = makeStrategy({ name: 'pct', depth: 3 });
    const other = new StrategyCopy(makeStrategy({ name: 'roundrobin' }), log, true, true);
    for (let run = 0; run < 4; run++) decideRun(writer, log, run);
    expect(() => other.catchUp()).toThrow(
      /^decision log: at decision \d+ roundrobin picks CPU\d here, CPU\d on the thread that decided$/,
    );
  });
});
