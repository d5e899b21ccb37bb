// Schedule strings: round trips (large ones too) and one clear error per malformed input.
import { describe, expect, it } from 'vitest';
import { rng } from '../src/cpu/prng.js';
import { decodeSchedule, encodeSchedule, ScheduleError, switches } from '../src/cpu/schedule.js';
import { ReplayStrategy } from '../src/cpu/strategies/replay.js';

function randomPicks(n: number, ncpus: number, seed: number, stickiness: number): number[] {
  const r = rng(seed);
  const picks: number[] = [];
  let cur = 0;
  for (let i = 0; i < n; i++) {
    if (r() > stickiness) cur = Math.floor(r() * ncpus);
    picks.push(cur);
  }
  return picks;
}

describe('schedule strings', () => {
  it('round-trip a short schedule as readable run-length text', () => {
    const s = { ncpus: 3, picks: [0, 0, 0, 1, 2, 2, 0] };
    const text = encodeSchedule(s);
    expect(text).toBe('S1:3:a3bc2a');
    expect(decodeSchedule(text)).toEqual(s);
  });

  it.each([
    [100_000, 0.9],
    [150_000, 0.0],
  ])('round-trip %i steps (stickiness %f), compressed', (steps, stick) => {
    const s = { ncpus: 4, picks: randomPicks(steps, 4, 7, stick) };
    const text = encodeSchedule(s);
    expect(text.startsWith('S1Z:4:')).toBe(true);
    const back = decodeSchedule(text);
    expect(back.picks.length).toBe(steps);
    expect(back).toEqual(s);
    expect(switches(back.picks)).toBe(switches(s.picks));
  });

  it.each([
    ['', /malformed/],
    ['garbage', /malformed/],
    ['S2:3:a3', /version S2 is not supported/],
    ['S1:0:a', /ncpus 0 is out of range/],
    ['S1:99:a', /out of range/],
    ['S1:2:a3c', /CPU2 in a 2-CPU schedule/],
    ['S1:2:a0', /bad run length/],
    ['S1:2:A3', /unexpected 'A'/],
    ['S1Z:2:%%%', /malformed/],
    ['S1Z:2:AAAA', /corrupt/],
  ])('%j is refused', (text, why) => {
    expect(() => decodeSchedule(text)).toThrow(ScheduleError);
    expect(() => decodeSchedule(text)).toThrow(why);
  });
});

describe('replay strategy', () => {
  const sched = { ncpus: 3, picks: [0, 0, 1, 2, 2, 2] };

  it('strict: a pick that is not runnable is a divergence, and so is running past the end', () => {
    const s = new ReplayStrategy(sched);
    s.beginRun(1, 3);
    expect(s.pick([0, 1, 2], -1, 0)).toBe(0);
    expect(() => s.pick([1, 2], 0, 1)).toThrow(/decision 1: the schedule picks CPU0/);
    expect(() => s.pick([0], 0, 6)).toThrow(/past the schedule's 6 decisions/);
  });

  it("'continue': goes on with the running CPU, else the lowest runnable, and says where it left", () => {
    const s = new ReplayStrategy(sched, 'continue');
    s.beginRun(1, 3);
    expect(s.pick([1, 2], 1, 3)).toBe(2); // on the schedule
    expect(s.pick([0, 1], 1, 3)).toBe(1); // CPU2 not runnable: CPU1 goes on
    expect(s.diverged).toMatch(/decision 3/);
    expect(s.pick([0, 2], 1, 4)).toBe(2); // back on the schedule
    expect(s.pick([0, 1], 2, 9)).toBe(0); // past the end, CPU2 cannot go on: the lowest runnable
  });

  it('run-ahead covers a run of one CPU, and everything past the end only when continuing', () => {
    expect(new ReplayStrategy(sched).runAhead(2, 3)).toBe(2);
    expect(new ReplayStrategy(sched).runAhead(0, 0)).toBe(1);
    expect(new ReplayStrategy(sched).runAhead(1, 2)).toBe(0);
    expect(new ReplayStrategy(sched, 'continue').runAhead(2, 3)).toBe(Number.MAX_SAFE_INTEGER);
    expect(new ReplayStrategy(sched, 'continue').runAhead(0, 0)).toBe(1);
  });
});

describe('replay strategy, steps the runner takes itself', () => {
  it('a spinner-only step must match the schedule when strict; lenient replay notes it', () => {
    const sched = { ncpus: 2, picks: [0, 1, 1] };
    const strict = new ReplayStrategy(sched);
    strict.beginRun(1, 2);
    expect(() => strict.ranAhead(1, 1, 2)).not.toThrow();
    expect(() => strict.ranAhead(0, 1, 1)).toThrow(/decision 1: the schedule picks CPU1, only spinning CPU0/);
    expect(() => strict.ranAhead(1, 3, 1)).toThrow(/past the schedule's 3 decisions/);
    const lenient = new ReplayStrategy(sched, 'continue');
    lenient.beginRun(1, 2);
    lenient.ranAhead(0, 2, 1);
    expect(lenient.diverged).toMatch(/decision 2/);
  });
});
