// Per-VMA locks, three generations (rfc-2022-09, v6.4, v6.15): each protocol's small fixture
// (test/fixtures/vma-lock-dfs.mjs: two readers and a writer; a reader, a writer and a detach; the
// sequence bump releasing two VMAs at once), every schedule with up to 1 preemption (the CI size:
// ~1 s each; the clean variants in one command, the broken ones in two). A clean verdict counts
// only when the space was exhausted; each broken variant (no-recheck, no-wait, no-bump) must be
// caught and its schedule replay 10/10.
// The whole space at 2 preemptions is `npm run test:exhaustive` (scripts/exhaustive.mjs), measured
// on the 2-core host: 9,162 to 19,020 schedules per variant, 10-25 s each.
import { describe, expect, it } from 'vitest';
import { json, mmraceAsync } from './helpers/cli.js';
import { type DfsRow, dfsBatch, expectReplaysTenOfTen, fixture, rowAsync } from './helpers/dfs.js';

const NAME = 'vma-lock-dfs';
const FIXTURE = fixture(NAME);
const CLI_TIMEOUT_MS = 60_000;
const GENS = ['rfc', 'v6.4', 'v6.15'];
const TOPOLOGIES: [string, string][] = [
  ['readers', 'no-recheck'],
  ['detach', 'no-wait'],
  ['bump', 'no-bump'],
];

/**
 * The readers' no-recheck needs 2 preemptions in v6.4 and v6.15 (the early lockless check passes,
 * the writer marks, the reader takes the lock): there, the first 200 schedules in DFS order, a
 * deterministic prefix whose first hits are schedules 39 (v6.4) and 15 (v6.15).
 */
const PREFIX_K2 = new Set(['v6.4-readers-no-recheck', 'v6.15-readers-no-recheck']);

describe('vma-lock-dfs: bounded dfs (1 preemption), every generation', () => {
  const clean = GENS.flatMap((g) => TOPOLOGIES.map(([t]) => `${g}-${t}`));
  const broken = GENS.flatMap((g) => TOPOLOGIES.map(([t, b]) => `${g}-${t}-${b}`));
  const k1 = ['--preemptions', '1'];
  const cleanRows = dfsBatch(NAME, clean, k1);
  const brokenK1 = dfsBatch(
    NAME,
    broken.filter((v) => !PREFIX_K2.has(v)),
    [...k1, '--stop-on-hit'],
  );
  const brokenK2 = dfsBatch(NAME, [...PREFIX_K2], ['--stop-on-hit'], 200);

  it.concurrent.each(clean)(
    '%s: clean over the whole space',
    async (variant) => {
      const r = await cleanRows(variant);
      expect(r).toMatchObject({ observed: 'clean', hits: 0, checkFailures: 0, schedule: null });
      expect(r.explored).toBeGreaterThan(50);
    },
    CLI_TIMEOUT_MS,
  );

  it.concurrent.each(broken)(
    '%s: caught (the search stops at the first failing schedule), and the schedule replays 10/10',
    async (variant) => {
      const r = await (PREFIX_K2.has(variant) ? brokenK2 : brokenK1)(variant);
      expect(r.hits + r.checkFailures).toBe(1);
      expect(r.observed).toBe('reproduces');
      expect(r.firstHit!.summary).toMatch(/^BUG: VMA (lock exclusion violated|still write-locked)/);
      // (bump-no-bump's replay is left to npm run test:exhaustive, to keep this file near 40 s)
      if (variant.endsWith('-no-bump')) return;
      await expectReplaysTenOfTen(FIXTURE, variant, r);
    },
    CLI_TIMEOUT_MS,
  );
});

// The RFC's mm_lock_seq overflow with a 2-bit sequence (test/fixtures/vma-lock-seq-overflow.mjs),
// the whole space at 2 preemptions (63, 83 and 133 schedules).
describe('vma-lock-seq-overflow: bounded dfs (2 preemptions)', () => {
  const SEQ = fixture('vma-lock-seq-overflow');
  async function seqDfs(variant: string): Promise<DfsRow> {
    const args = ['run', SEQ, '--variant', variant, '--strategy', 'dfs', '--preemptions', '2'];
    const [x] = json<{ rows: DfsRow[] }>(
      await mmraceAsync([...args, '--runs', '100000', '--json'], CLI_TIMEOUT_MS),
    ).rows;
    expect(x!.error).toBeNull();
    expect(x!.runs).toBeLessThan(100_000);
    console.log(
      `dfs vma-lock-seq-overflow ${variant} (k=2): ${x!.explored} schedules explored, ${x!.hits} hits`,
    );
    return x!;
  }

  it.concurrent.each(['false-locked', 'unwrapped'])(
    '%s: clean; a reader of the false-locked VMA falls back to mmap_lock, counted by VMA_LOCK_ABORT',
    async (variant) => {
      expect(await seqDfs(variant)).toMatchObject({ observed: 'clean', hits: 0, checkFailures: 0 });
    },
    CLI_TIMEOUT_MS,
  );

  it.concurrent(
    "wrap-while-held: a stale mark taken as the writer's own lets it in beside a reader; replays 10/10",
    async () => {
      const r = await seqDfs('wrap-while-held');
      expect(r.observed).toBe('reproduces');
      expect(r.firstHit!.summary).toBe(
        'BUG: VMA lock exclusion violated: writer entered vma0 readers=1 writers=1',
      );
      const again = await rowAsync([
        'run',
        SEQ,
        '--replay',
        r.schedule!,
        '--variant',
        'wrap-while-held',
        '--runs',
        '10',
        '--json',
      ]);
      expect(again).toMatchObject({ observed: 'reproduces', hits: 10, error: null });
    },
    CLI_TIMEOUT_MS,
  );
});
