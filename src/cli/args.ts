// Option parsers: bad values become one clear line and exit code 2.
import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from 'commander';
import type { Shard } from '../cpu/strategies/shard.js';

export { suggestSimilar } from '../scenarios/suggest.js';

export class UsageError extends Error {}

export function intIn(min: number, max: number): (v: string) => number {
  return (v: string) => {
    if (!/^-?\d+$/.test(v.trim())) throw new InvalidArgumentError(`expected an integer in ${min}..${max}`);
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer in ${min}..${max}`);
    return n;
  };
}

export const parseRuns = intIn(1, 10_000_000);
export const parseSeed = intIn(0, 0xffffffff);

/** Most shards a campaign splits into. */
export const MAX_SHARDS = 100_000;

/** `--shard i/n`: shard i of n, 1 <= i <= n. */
export function parseShard(v: string): Shard {
  const m = /^(\d{1,9})\/(\d{1,9})$/.exec(v.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || index < 1 || count > MAX_SHARDS || index > count)
    throw new InvalidArgumentError(`expected i/n with 1 <= i <= n <= ${MAX_SHARDS} (shard i of n, e.g. 2/4)`);
  return { index, count };
}

/**
 * `--machines N`: at most one machine per core of this host. Each machine is a host process with
 * its scenario's CPU threads; more machines than cores only make them take turns.
 */
export function parseMachines(v: string): number {
  const cores = availableParallelism();
  if (!/^\d{1,6}$/.test(v.trim()) || Number(v) < 1 || Number(v) > cores)
    throw new InvalidArgumentError(
      `expected a number of machines in 1..${cores} (at most one per core; this host has ${cores})`,
    );
  return Number(v);
}
