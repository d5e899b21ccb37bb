// The lines a sharded row (`--shard i/n`) and a merged row (`mmrace merge`) add to the report.
import type { VerdictRow } from '../report/verdict.js';

/** Which part of the campaign a shard ran. */
export function shardLines(r: VerdictRow, label: string): string[] {
  const s = r.shard;
  if (!s) return [];
  const of = `${label}: shard ${s.index}/${s.count}`;
  const probe =
    s.probeRuns > 0
      ? ` (and run 0 first, uncounted, to learn ${s.split === 'dfs' ? "the tree's spine" : "PCT's step bound"})`
      : '';
  if (s.split === 'dfs') {
    const done = s.exhausted ? 'all explored' : 'NOT all explored: raise --runs';
    return ['', `${of} of the DFS tree: ${r.explored} schedules of its subtrees, ${done}${probe}`];
  }
  const b = s.block;
  const span = (x: number, y: number) => (x === y ? `${x}` : `${x}..${y}`);
  const what = b
    ? `run${b.first === b.last ? '' : 's'} ${span(b.first, b.last)} (seed${b.first === b.last ? '' : 's'} ${span(b.seeds.first, b.seeds.last)})`
    : 'no runs (fewer runs than shards)';
  return ['', `${of} of ${s.campaign.runs} runs: ${what}${probe}`];
}

/** What each shard (or machine: `parts` says which) of a merged row contributed. */
export function mergedLines(r: VerdictRow, label: string, parts = (n: number) => `${n} shards`): string[] {
  const m = r.merged;
  if (!m) return [];
  const dfs = r.strategy === 'dfs';
  const each = dfs ? m.explored : m.runs;
  const sum = `${each.join(' + ')} = ${each.reduce((a, b) => a + b, 0)}`;
  return [
    '',
    `${label}: ${parts(m.count)}, ${dfs ? 'schedules explored' : 'runs'} ${sum}; hits ${m.hits.join(' + ')}`,
  ];
}
