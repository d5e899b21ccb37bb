// The lines `--machines N` adds to the text report: that the rows merge N machines, and what each
// machine (one shard of the campaign each), or each shard (DFS: several a machine), contributed.
import type { VerdictRow } from '../report/verdict.js';
import { plural } from './era_matrix.js';
import { mergedLines } from './shard_lines.js';

export function machinesHeading(n: number, shards: number): string {
  const each =
    n === 1
      ? 'shard 1/1'
      : shards === n
        ? `shards 1..${n} of ${n}, one each`
        : `shards 1..${shards} of ${shards}, taken in turn`;
  return `ran on ${plural(n, 'machine')} (${each}; each its own arena and CPU threads)`;
}

/** One row's split across the machines: runs (or schedules explored) and hits per machine. */
export function machineLines(r: VerdictRow, label: string): string[] {
  return mergedLines(r, label, (n) => plural(n, 'machine'));
}
