// dfs: exhaustive search of the schedules with at most `preemptions` preemptions (CHESS-style
// iterative context bounding, depth-first). A preemption is a switch away from a CPU that could
// have gone on; a switch forced by the running CPU blocking or finishing is free. Each run replays
// the previous run's choices up to the deepest decision that still has an untried alternative,
// takes that alternative, then runs without preempting. Requires deterministic runs (controlled
// mode): the same choices must lead to the same decisions.
import type { RunEnd, Strategy } from '../strategy.js';

interface Decision {
  /** The options at this decision, the non-preemptive one first. */
  options: number[];
  chosen: number;
  /** Preemptions spent before this decision. */
  spent: number;
  /** Whether options[0] continues the running CPU (so any other option is a preemption). */
  canContinue: boolean;
}

export class DfsStrategy implements Strategy {
  readonly name = 'dfs';
  private stack: Decision[] = [];
  private replayUpTo = -1;
  /** Schedules run so far. */
  explored = 0;

  constructor(readonly preemptions: number) {
    if (!Number.isInteger(preemptions) || preemptions < 0)
      throw new RangeError('dfs: preemption bound must be >= 0');
  }

  beginRun(): void {}

  pick(runnable: readonly number[], current: number, step: number): number {
    if (step <= this.replayUpTo) {
      const d = this.stack[step]!;
      const want = d.options[d.chosen]!;
      if (!runnable.includes(want)) throw new Error(`dfs: run is not deterministic at decision ${step}`);
      return want;
    }
    const canContinue = runnable.includes(current);
    const options = canContinue ? [current, ...runnable.filter((c) => c !== current)] : [...runnable];
    const prev = this.stack[step - 1];
    const spent = prev ? prev.spent + (prev.canContinue && prev.chosen > 0 ? 1 : 0) : 0;
    this.stack[step] = { options, chosen: 0, spent, canContinue };
    return options[0]!;
  }

  /** Preemptions spent before the decision after `step`. */
  private spentAfter(step: number): number {
    const d = this.stack[step]!;
    return d.spent + (d.canContinue && d.chosen > 0 ? 1 : 0);
  }

  // Run-ahead: inside the replayed prefix, as far as the previous run went on with this CPU; past
  // it, for good once the bound is spent (no alternative can be tried any more).
  runAhead(cpu: number, step: number): number {
    if (step < this.replayUpTo) {
      let n = 0;
      for (let i = step + 1; i < this.replayUpTo; i++, n++) {
        const d = this.stack[i]!;
        if (!d.canContinue || d.chosen !== 0 || d.options[0] !== cpu) break;
      }
      return n;
    }
    return this.spentAfter(step) >= this.preemptions ? Number.MAX_SAFE_INTEGER : 0;
  }

  ranAhead(cpu: number, step: number, n: number): void {
    if (step <= this.replayUpTo) return; // the prefix's decisions are on the stack already
    // One shared record: a decision without alternatives is never changed by endRun().
    const d: Decision = { options: [cpu], chosen: 0, spent: this.spentAfter(step - 1), canContinue: true };
    this.stack.length = step + n;
    this.stack.fill(d, step, step + n);
  }

  endRun(end: RunEnd): boolean {
    this.explored++;
    this.stack.length = end.steps;
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const d = this.stack[i]!;
      const nextChoice = d.chosen + 1;
      const cost = d.canContinue ? 1 : 0;
      if (nextChoice < d.options.length && d.spent + cost <= this.preemptions) {
        d.chosen = nextChoice;
        this.stack.length = i + 1;
        this.replayUpTo = i;
        return true;
      }
    }
    return false;
  }
}
