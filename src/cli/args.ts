// Option parsers: bad values become one clear line and exit code 2.
import { InvalidArgumentError } from 'commander';

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
