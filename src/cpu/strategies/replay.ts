// replay: follow a recorded schedule. Strict by default: a pick that is not runnable, or a run
// that outlives the schedule, is a divergence. 'random' goes on with seeded random picks;
// 'continue' goes on without preempting (the running CPU while it can, else the lowest runnable
// one): the shrinker's way of asking "what if the schedule stopped switching here?".
import { rng } from '../prng.js';
import type { Schedule } from '../schedule.js';
import type { RunEnd, Strategy } from '../strategy.js';

export class ScheduleDivergence extends Error {}

export type OnDivergence = 'stop' | 'random' | 'continue';

export class ReplayStrategy implements Strategy {
  readonly name = 'replay';
  readonly decidesOnCpus = true;
  private next: () => number = Math.random;
  diverged: string | null = null;

  constructor(
    private readonly schedule: Schedule,
    private readonly onDivergence: OnDivergence = 'stop',
  ) {}

  beginRun(runSeed: number, ncpus: number): void {
    if (ncpus !== this.schedule.ncpus) {
      throw new ScheduleDivergence(`the schedule is for ${this.schedule.ncpus} CPUs, the run has ${ncpus}`);
    }
    this.next = rng(runSeed);
    this.diverged = null;
  }

  pick(runnable: readonly number[], current: number, step: number): number {
    const want = this.schedule.picks[step];
    if (want !== undefined && runnable.includes(want)) return want;
    const why =
      want === undefined
        ? `the run went on past the schedule's ${this.schedule.picks.length} decisions`
        : `decision ${step}: the schedule picks CPU${want}, runnable are ${runnable.map((c) => `CPU${c}`).join(', ')}`;
    if (this.onDivergence === 'stop') throw new ScheduleDivergence(`schedule diverged: ${why}`);
    this.diverged ??= why;
    if (this.onDivergence === 'continue') return runnable.includes(current) ? current : runnable[0]!;
    return runnable[Math.floor(this.next() * runnable.length)]!;
  }

  /** The schedule's run of `cpu` after `step` (and, continuing past its end, for good). */
  runAhead(cpu: number, step: number): number {
    const picks = this.schedule.picks;
    let n = 0;
    while (picks[step + 1 + n] === cpu) n++;
    if (step + 1 + n >= picks.length && this.onDivergence === 'continue') return Number.MAX_SAFE_INTEGER;
    return n;
  }

  /** A step the runner took itself (only spinners could run): the schedule must say the same. */
  ranAhead(cpu: number, step: number, n: number): void {
    for (let i = step; i < step + n; i++) {
      const want = this.schedule.picks[i];
      if (want === cpu) continue;
      const why =
        want === undefined
          ? `the run went on past the schedule's ${this.schedule.picks.length} decisions`
          : `decision ${i}: the schedule picks CPU${want}, only spinning CPU${cpu} may run there`;
      if (this.onDivergence === 'stop') throw new ScheduleDivergence(`schedule diverged: ${why}`);
      this.diverged ??= why;
    }
  }

  endRun(_end: RunEnd): boolean {
    return true;
  }
}
