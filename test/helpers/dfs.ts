// Bounded DFS over a fixture's whole schedule space through the built command: `mmrace run
// <fixture> --strategy dfs --preemptions 2`, with a --runs cap far above any space here, so only
// exhaustion ends the campaign (checked).
import { expect } from 'vitest';
import { type CliResult, json, mmrace, mmraceAsync } from './cli.js';

export type DfsRow = {
  variant: string;
  points: string;
  observed: string;
  ok: boolean;
  runs: number;
  hits: number;
  checkFailures: number;
  strategy: string | null;
  schedule: string | null;
  explored: number;
  firstHit: { summary: string } | null;
  firstCheckFailure: { check: string; detail: string } | null;
  error: string | null;
};

const RUNS_CAP = 1_000_000;
const CLI_TIMEOUT_MS = 60_000;

export const fixture = (name: string) => `test/fixtures/${name}.mjs`;

/** One variant's row; exit 0 and a quiet stderr: its verdict matched its expectation. */
function rowOf(r: CliResult): DfsRow {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const rows = json<{ rows: DfsRow[] }>(r).rows;
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

export const row = (args: string[]): DfsRow => rowOf(mmrace(args, CLI_TIMEOUT_MS));
export const rowAsync = async (args: string[]): Promise<DfsRow> =>
  rowOf(await mmraceAsync(args, CLI_TIMEOUT_MS));

const dfsArgs = (name: string, variant: string, extra: string[], runs = RUNS_CAP): string[] => [
  'run',
  fixture(name),
  '--variant',
  variant,
  '--strategy',
  'dfs',
  '--preemptions',
  '2',
  ...extra,
  '--runs',
  String(runs),
  '--json',
];

/** A DFS row without an error, every run one schedule; its count printed. */
function searched(r: DfsRow, what: string): DfsRow {
  expect(r.strategy).toBe('dfs');
  expect(r.error).toBeNull();
  expect(r.explored).toBe(r.runs);
  console.log(`dfs ${what}: ${r.explored} schedules explored, ${r.hits} hits`);
  return r;
}

function exhausted(r: DfsRow, what: string): DfsRow {
  expect(r.runs).toBeLessThan(RUNS_CAP); // dfs ran out of schedules, not the cap
  return searched(r, what);
}

export const dfs = (name: string, variant: string, extra: string[] = []): DfsRow =>
  exhausted(row(dfsArgs(name, variant, extra)), `${name} ${variant} ${extra.join(' ')}`);

/** `dfs` for `it.concurrent` tests: CLI-bound files then keep both cores busy. */
export const dfsAsync = async (name: string, variant: string, extra: string[] = []): Promise<DfsRow> =>
  exhausted(await rowAsync(dfsArgs(name, variant, extra)), `${name} ${variant} ${extra.join(' ')}`);

/**
 * Several variants of one fixture in one command (`--variant a,b,c`): one process and one set of
 * CPU threads instead of one each (their start, ~1.7 s of CPU time, was most of a small space's
 * cost). Every test that asks for one of `variants` with the same `extra` shares the command; each
 * row is checked as dfsAsync() checks its own. With `prefix`, each search stops after that many
 * schedules (a deterministic prefix of the space), so the space is not checked exhausted.
 */
export function dfsBatch(
  name: string,
  variants: readonly string[],
  extra: string[] = [],
  prefix?: number,
): (variant: string) => Promise<DfsRow> {
  let all: Promise<Map<string, DfsRow>> | undefined;
  const run = async () => {
    const args = dfsArgs(name, variants.join(','), extra, prefix);
    const r = await mmraceAsync(args, CLI_TIMEOUT_MS * 2);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = json<{ rows: DfsRow[] }>(r).rows;
    expect(rows.map((x) => x.variant).sort()).toEqual([...variants].sort());
    return new Map(rows.map((x) => [x.variant, x]));
  };
  return async (variant) => {
    expect(variants).toContain(variant);
    all ??= run();
    const check = prefix === undefined ? exhausted : searched;
    return check((await all).get(variant)!, `${name} ${variant} ${extra.join(' ')}`);
  };
}

/** dfsBatch() for every fixture of `table` ([fixture, variant, ...] rows): one command per fixture. */
export function dfsBatches(
  table: readonly (readonly [string, string, ...unknown[]])[],
  extra: string[],
): (name: string, variant: string) => Promise<DfsRow> {
  const by = new Map<string, (variant: string) => Promise<DfsRow>>();
  for (const name of new Set(table.map(([n]) => n))) {
    const variants = table.filter(([n]) => n === name).map(([, v]) => v);
    by.set(name, dfsBatch(name, variants, extra));
  }
  return (name, variant) => by.get(name)!(variant);
}

/** A correct variant's row: its whole space explored (more than `floor` schedules), nothing found. */
export function expectCleanSpace(r: DfsRow, floor: number): void {
  expect(r).toMatchObject({ observed: 'clean', hits: 0, checkFailures: 0, firstHit: null, schedule: null });
  expect(r.firstCheckFailure).toBeNull();
  expect(r.explored).toBeGreaterThan(floor);
}

/** `found`'s failing schedule, replayed 10 times: every run fails the same way. */
export async function expectReplaysTenOfTen(
  fixturePath: string,
  variant: string,
  found: DfsRow,
): Promise<void> {
  const again = await rowAsync([
    'run',
    fixturePath,
    '--replay',
    found.schedule!,
    '--variant',
    variant,
    '--runs',
    '10',
    '--json',
  ]);
  expect(again).toMatchObject({
    observed: 'reproduces',
    strategy: 'replay',
    runs: 10,
    hits: 10,
    error: null,
  });
  expect(again.firstHit!.summary).toBe(found.firstHit!.summary);
}
