// PCT, probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010).
// Each run: the CPUs get distinct random priorities d..d+n-1; d-1 change points are drawn uniformly
// from the k steps; when step k_i is reached, the running CPU's priority drops to i (below every
// initial one). The highest-priority runnable CPU always runs. A bug of depth d is then found with
// probability at least 1/(n * k^(d-1)). k is the longest run seen so far (the step bound).
//
// That makes run r depend on every run before it. With `learnFirstOnly` (every sharded campaign,
// `--shard i/n`), k is learned from the campaign's run 0 alone (seed S, bound 64) and then frozen,
// so run r is a function of its own seed and run 0: a shard that does not own run 0 runs it first,
// uncounted, to learn the same k (campaign.ts), and its run r is the unsharded (`--shard 1/1`)
// run r. Against a plain unsharded campaign, runs 0 and 1 are the same; from run 2 on, k may differ
// (there it is the longest of runs 0..r-1, here run 0's length).
import { rng } from '../prng.js';
import type { RunEnd, Strategy } from '../strategy.js';

export class PctStrategy implements Strategy {
  readonly name = 'pct';
  readonly decidesOnCpus = true;
  private prio: number[] = [];
  /** The change points, by step: [step, the priority the running CPU drops to]. */
  private changes: [number, number][] = [];
  private nextChange = 0;
  private k: number;
  private learned = false;

  constructor(
    readonly depth: number,
    initialStepBound = 64,
    /** Learn k from the first run only, then keep it (sharded campaigns). */
    readonly learnFirstOnly = false,
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
    this.changes = [];
    for (let i = 1; i < d; i++) this.changes.push([Math.floor(next() * this.k), d - i]);
    this.changes.sort((a, b) => a[0] - b[0]);
    this.nextChange = 0;
  }

  pick(runnable: readonly number[], current: number, step: number): number {
    // A change point on a step the strategy did not see (a spinner-only step the runner took)
    // applies at the next one it does see.
    while (this.nextChange < this.changes.length && this.changes[this.nextChange]![0] <= step) {
      if (current >= 0) this.prio[current] = this.changes[this.nextChange]![1];
      this.nextChange++;
    }
    let best = runnable[0]!;
    for (const c of runnable) if (this.prio[c]! > this.prio[best]!) best = c;
    return best;
  }

  /**
   * Run-ahead: a CPU whose priority is the highest of all CPUs is picked at every point until the
   * next change point, whoever else becomes runnable meanwhile; past the last change point, for good.
   */
  runAhead(cpu: number, step: number): number {
    const p = this.prio[cpu]!;
    for (const q of this.prio) if (q > p) return 0;
    const next = this.changes[this.nextChange];
    return next === undefined ? Number.MAX_SAFE_INTEGER : Math.max(0, next[0] - step - 1);
  }

  endRun(end: RunEnd): boolean {
    if (end.steps > this.k && !(this.learnFirstOnly && this.learned)) this.k = end.steps;
    this.learned = true;
    return true;
  }
}
