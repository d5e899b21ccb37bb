// PCT, probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010).
// Each run: the CPUs get distinct random priorities d..d+n-1; d-1 change points are drawn uniformly
// from the k steps; when step k_i is reached, the running CPU's priority drops to i (below every
// initial one). The highest-priority runnable CPU always runs. A bug of depth d is then found with
// probability at least 1/(n * k^(d-1)). k is the longest run seen so far (the step bound).
import { rng } from '../prng.js';
import type { RunEnd, Strategy } from '../strategy.js';

export class PctStrategy implements Strategy {
  readonly name = 'pct';
  private prio: number[] = [];
  private changeAt = new Map<number, number>();
  private k: number;

  constructor(
    readonly depth: number,
    initialStepBound = 64,
  ) {
    if (!Number.isInteger(depth) || depth < 1) throw new RangeError('pct: depth must be an integer >= 1');
    this.k = Math.max(1, initialStepBound);
  }

  get stepBound(): number {
    return this.k;
  }

  beginRun(runSeed: number, ncpus: number): void {
    const next = rng(runSeed);
    const d = this.depth;
    const order = Array.from({ length: ncpus }, (_, i) => i);
    for (let i = ncpus - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    this.prio = new Array<number>(ncpus);
    order.forEach((cpu, rank) => {
      this.prio[cpu] = d + rank;
    });
    this.changeAt = new Map();
    for (let i = 1; i < d; i++) this.changeAt.set(Math.floor(next() * this.k), d - i);
  }

  pick(runnable: readonly number[], current: number, step: number): number {
    const drop = this.changeAt.get(step);
    if (drop !== undefined && current >= 0) this.prio[current] = drop;
    let best = runnable[0]!;
    for (const c of runnable) if (this.prio[c]! > this.prio[best]!) best = c;
    return best;
  }

  endRun(end: RunEnd): boolean {
    if (end.steps > this.k) this.k = end.steps;
    return true;
  }
}
