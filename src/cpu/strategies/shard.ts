// A campaign split across machines (`--shard i/n`): which part of the unsharded campaign shard i
// of n runs. Free, random and PCT campaigns split their runs into n contiguous blocks (run r keeps
// its seed, seed + r); DFS splits its tree by prefixes (dfs.ts). The blocks' union is exactly the
// unsharded runs.

export interface Shard {
  /** 1-based: 1 <= index <= count. */
  index: number;
  count: number;
}

export const NO_SHARD: Shard = { index: 1, count: 1 };

/** Shard i of n's runs of an n-run campaign: [first, first + runs), sizes within one of each other. */
export function shardBlock(runs: number, shard: Shard): { first: number; runs: number } {
  const lo = Math.floor(((shard.index - 1) * runs) / shard.count);
  const hi = Math.floor((shard.index * runs) / shard.count);
  return { first: lo, runs: hi - lo };
}

/**
 * Items to shards, biggest first, each to the least loaded shard (the earliest on a tie): the
 * shard (0-based) of every item. Item 0 goes to shard 0 whatever its weight (DFS's spine leaf:
 * the first shard runs it first, so it is the one shard that needs no probe).
 */
export function balance(weights: readonly number[], count: number): number[] {
  const owner = new Array<number>(weights.length).fill(0);
  const heap = new MinLoadHeap(count);
  heap.add(0, weights[0] ?? 0);
  const order = weights.map((_, i) => i).slice(1);
  order.sort((a, b) => weights[b]! - weights[a]! || a - b);
  for (const item of order) owner[item] = heap.add(heap.least(), weights[item]!);
  return owner;
}

/** Shards by load, least loaded (then lowest index) on top. */
class MinLoadHeap {
  private readonly load: number[];
  private readonly heap: number[];
  private readonly at: number[];

  constructor(count: number) {
    this.load = new Array<number>(count).fill(0);
    this.heap = Array.from({ length: count }, (_, i) => i);
    this.at = Array.from({ length: count }, (_, i) => i);
  }

  least(): number {
    return this.heap[0]!;
  }

  /** Adds `w` to shard `s`'s load; returns `s`. */
  add(s: number, w: number): number {
    this.load[s]! += w;
    let i = this.at[s]!;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.heap.length && this.before(this.heap[l]!, this.heap[m]!)) m = l;
      if (r < this.heap.length && this.before(this.heap[r]!, this.heap[m]!)) m = r;
      if (m === i) return s;
      this.swap(i, m);
      i = m;
    }
  }

  private before(a: number, b: number): boolean {
    return this.load[a]! < this.load[b]! || (this.load[a] === this.load[b] && a < b);
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    this.heap[i] = b;
    this.heap[j] = a;
    this.at[b] = i;
    this.at[a] = j;
  }
}
