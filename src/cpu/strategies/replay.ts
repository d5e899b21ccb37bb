// replay: follow a recorded schedule. Strict by default: a pick that is not runnable, or a run
// that outlives the schedule, is a divergence; `continueRandomly` goes on with random picks.
import { rng } from '../prng.js';
import type { Schedule } from '../schedule.js';
import type { RunEnd, Strategy } from '../strategy.js';

export class ScheduleDivergence extends Error {}

export class ReplayStrategy implements Strategy {
  readonly name = 'replay';
  private next: () => number = Math.random;
  diverged: string | null = null;

  constructor(
    private readonly schedule: Schedule,
    private readonly continueRandomly = false,
  ) {}

  beginRun(runSeed: number, ncpus: number): void {
    if (ncpus !== this.schedule.ncpus) {
      throw new ScheduleDivergence(`the schedule is for ${this.schedule.ncpus} CPUs, the run has ${ncpus}`);
    }
    this.next = rng(runSeed);
    this.diverged = null;
  }

  pick(runnable: readonly number[], _current: number, step: number): number {
    const want = this.schedule.picks[step];
    if (want !== undefined && runnable.includes(want)) return want;
    const why =
      want === undefined
        ? `the run went on past the schedule's ${this.schedule.picks.length} decisions`
        : `decision ${step}: the schedule picks CPU${want}, runnable are ${runnable.map((c) => `CPU${c}`).join(', ')}`;
    if (!this.continueRandomly) throw new ScheduleDivergence(`schedule diverged: ${why}`);
    this.diverged ??= why;
    return runnable[Math.floor(this.next() * runnable.length)]!;
  }

  /** The schedule's run of `cpu` after `step`: those decisions need no round trip. */
  runAhead(cpu: number, step: number): number {
    const picks = this.schedule.picks;
    let n = 0;
    while (picks[step + 1 + n] === cpu) n++;
    return n;
  }

  endRun(_end: RunEnd): boolean {
    return true;
  }
}
