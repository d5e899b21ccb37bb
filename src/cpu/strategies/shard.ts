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
