// dfs: exhaustive search of the schedules with at most `preemptions` preemptions (CHESS-style
// iterative context bounding, depth-first). A preemption is a switch away from a CPU that could
// have gone on; a switch forced by the running CPU blocking or finishing is free. Each run replays
// the previous run's choices up to the deepest decision that still has an untried alternative,
// takes that alternative, then runs without preempting. Requires deterministic runs (controlled
// mode): the same choices must lead to the same decisions.
//
// Sharded (`--shard i/n`): the tree splits at the first run's decisions, its spine (every choice
// the non-preemptive one). Every leaf but the spine's own leaves the spine at one decision by one
// alternative: the subtree of (decision, alternative), numbered in spine order from 1 (the spine
// leaf is 0, shard 1's). The subtrees go to the shards biggest first, each to the least loaded
// shard, by an estimate of their size from the spine alone (subtreeWeight), so every shard makes
// the same assignment. A shard explores only its subtrees, so the shards' schedules together are
// the unsharded space, each once. Every shard runs the spine first to learn it; only shard 1
// counts it (`lastRunOwned`).
import type { RunEnd, Strategy } from '../strategy.js';
import { balance, NO_SHARD, type Shard } from './shard.js';

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
  readonly decidesOnCpus = true;
  private stack: Decision[] = [];
  private replayUpTo = -1;
  /** Schedules run so far (sharded: this shard's only). */
  explored = 0;
  /** Sharded: the number of each spine decision's first alternative's subtree (null: not run yet). */
  private spine: number[] | null = null;
  /** Sharded: the shard (0-based) of each subtree. */
  private owner: number[] = [0];
  /** Whether the last run's schedule is this shard's (always, unsharded). */
  lastRunOwned = true;

  constructor(
    readonly preemptions: number,
    readonly shard: Shard = NO_SHARD,
  ) {
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
    this.stack.length = end.steps;
    this.spine ??= this.numberSpine();
    this.lastRunOwned = this.owns(this.subtree());
    if (this.lastRunOwned) this.explored++;
    const leaves = this.leavesSpineAt();
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const d = this.stack[i]!;
      if (d.spent + (d.canContinue ? 1 : 0) > this.preemptions) continue;
      for (let next = d.chosen + 1; next < d.options.length; next++) {
        if (i <= leaves && !this.owns(this.spine[i]! + next - 1)) continue;
        d.chosen = next;
        this.stack.length = i + 1;
        this.replayUpTo = i;
        return true;
      }
    }
    return false;
  }

  /**
   * The spine's subtrees: the number of each decision's first alternative (the spine leaf is 0),
   * and the shard of each subtree.
   */
  private numberSpine(): number[] {
    let next = 1;
    const weights = [1];
    let branching = this.stack.filter((d) => d.options.length > 1).length;
    const firsts = this.stack.map((d) => {
      const first = next;
      if (d.options.length > 1) branching--;
      const cost = d.canContinue ? 1 : 0;
      if (d.spent + cost > this.preemptions) return first;
      next += d.options.length - 1;
      const w = subtreeWeight(branching, this.preemptions - cost);
      for (let a = 1; a < d.options.length; a++) weights.push(w);
      return first;
    });
    if (this.shard.count > 1) this.owner = balance(weights, this.shard.count);
    return firsts;
  }

  /** The decision where the current schedule leaves the spine (its length if it does not). */
  private leavesSpineAt(): number {
    const i = this.stack.findIndex((d) => d.chosen > 0);
    return i < 0 ? this.stack.length : i;
  }

  /** The number of the subtree the current schedule is in (0: the spine leaf). */
  private subtree(): number {
    const i = this.leavesSpineAt();
    return i === this.stack.length ? 0 : this.spine![i]! + this.stack[i]!.chosen - 1;
  }

  private owns(subtree: number): boolean {
    return this.shard.count === 1 || this.owner[subtree] === this.shard.index - 1;
  }
}

/**
 * A subtree's size, estimated: the ways to place at most `budget` preemptions on the `decisions`
 * branching decisions the spine makes after it leaves (capped, to stay a finite number).
 */
function subtreeWeight(decisions: number, budget: number): number {
  let ways = 1;
  let total = 1;
  for (let i = 1; i <= budget && i <= decisions; i++) {
    ways = Math.min(1e15, (ways * (decisions - i + 1)) / i);
    total = Math.min(1e15, total + ways);
  }
  return total;
}
