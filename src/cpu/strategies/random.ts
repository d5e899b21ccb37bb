// random: a seeded uniform pick among the runnable CPUs at every decision.
import { rng } from '../prng.js';
import type { RunEnd, Strategy } from '../strategy.js';

export class RandomStrategy implements Strategy {
  readonly name = 'random';
  readonly decidesOnCpus = true;
  private next: () => number = Math.random;

  beginRun(runSeed: number): void {
    this.next = rng(runSeed);
  }

  pick(runnable: readonly number[]): number {
    return runnable[Math.floor(this.next() * runnable.length)]!;
  }

  endRun(_end: RunEnd): boolean {
    return true;
  }
}
