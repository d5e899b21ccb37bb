// roundrobin: the next runnable CPU after the current one, at every decision.
import type { RunEnd, Strategy } from '../strategy.js';

export class RoundRobinStrategy implements Strategy {
  readonly name = 'roundrobin';
  readonly decidesOnCpus = true;

  beginRun(): void {}

  pick(runnable: readonly number[], current: number): number {
    return runnable.find((c) => c > current) ?? runnable[0]!;
  }

  endRun(_end: RunEnd): boolean {
    return true;
  }
}
