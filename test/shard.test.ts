// `--shard i/n` and `mmrace merge`: a campaign split across machines is the unsharded campaign.
// DFS shards partition the schedule tree (checked exhaustively on synthetic programs, and by the
// explored counts of the 2017 scenario's v4.15 variant); shards of a seeded campaign keep their
// runs' seeds, so merging them gives the unsharded hits and first failing seed. The deploy/
// manifests are parsed and checked against the command line they run.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { DfsStrategy } from '../src/cpu/strategies/dfs.js';
import { balance, type Shard, shardBlock } from '../src/cpu/strategies/shard.js';
import { json, mmrace, mmraceAsync } from './helpers/cli.js';
import { driveRun } from './helpers/dfs_drive.js';

const ID = 'oom-reaper-vs-exit-mmap-2017';
const dir = mkdtempSync(join(tmpdir(), 'mmrace-shard-'));

/** Every schedule DFS runs on n CPUs of m steps each (at most k preemptions), as the decider drives it. */
function explore(n: number, m: number, k: number, shard?: Shard, runAhead = false) {
  const s = new DfsStrategy(k, shard);
  const counted: string[] = [];
  let runs = 0;
  for (; runs < 100_000; runs++) {
    const picks = driveRun(s, n, m, runAhead);
    const more = s.endRun({ steps: picks.length, failed: false });
    if (s.lastRunOwned) counted.push(picks.join(''));
    if (!more) break;
  }
  return { counted, explored: s.explored, runs: runs + 1 };
}

describe('DFS shards partition the schedule tree', () => {
  it.each([
    [2, 3, 1],
    [2, 4, 2],
    [3, 2, 1],
    [3, 3, 2],
  ])('%i CPUs x %i steps, bound %i: every schedule in exactly one shard, n = 1..5', (n, m, k) => {
    for (const runAhead of [false, true]) {
      const all = explore(n, m, k, undefined, runAhead);
      expect(new Set(all.counted).size).toBe(all.explored);
      for (let count = 1; count <= 5; count++) {
        const shards = Array.from({ length: count }, (_, i) =>
          explore(n, m, k, { index: i + 1, count }, runAhead),
        );
        const union = shards.flatMap((s) => s.counted);
        expect(union.sort()).toEqual([...all.counted].sort());
        expect(shards.reduce((a, s) => a + s.explored, 0)).toBe(all.explored);
        // Each shard but the first runs the spine once more, uncounted: nothing else is wasted.
        shards.forEach((s, i) => {
          expect(s.runs).toBe(s.explored + (i === 0 ? 0 : 1));
        });
      }
    }
  });
});

describe('DFS subtrees to shards, biggest first to the least loaded', () => {
  it('item 0 is shard 0; the loads end within the biggest other item of each other', () => {
    expect(balance([1, 10, 9, 8, 1], 2)).toEqual([0, 1, 0, 0, 1]);
    for (const count of [1, 2, 3, 7, 40]) {
      const weights = Array.from({ length: 200 }, (_, i) => ((i * 7919) % 97) + 1);
      const owner = balance(weights, count);
      const loads = new Array<number>(count).fill(0);
      owner.forEach((o, i) => {
        loads[o]! += weights[i];
      });
      expect(owner[0]).toBe(0);
      expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(Math.max(...weights.slice(1)));
    }
  });
});

describe('seeded campaigns split into blocks', () => {
  it('the blocks cover the runs once each, in order, sizes within one', () => {
    for (const runs of [0, 1, 3, 7, 100, 1001]) {
      for (const count of [1, 2, 3, 4, 7]) {
        const blocks = Array.from({ length: count }, (_, i) => shardBlock(runs, { index: i + 1, count }));
        let next = 0;
        for (const b of blocks) {
          expect(b.first).toBe(next);
          next += b.runs;
        }
        expect(next).toBe(runs);
        const sizes = blocks.map((b) => b.runs);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }
    }
  });
});

type Row = {
  observed: string;
  runs: number;
  hits: number;
  explored: number;
  firstHitSeed: number | null;
  firstHit: { run: number; seed: number } | null;
  schedule: string | null;
  error: string | null;
  shard?: {
    index: number;
    count: number;
    probeRuns: number;
    exhausted?: boolean;
    block: { first: number; last: number; seeds: { first: number; last: number } } | null;
  };
  merged?: { count: number; runs: number[]; hits: number[]; explored: number[] };
};

function row(args: string[], timeoutMs = 60_000): Row {
  const r = mmrace([...args, '--json'], timeoutMs);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return json<{ rows: Row[] }>(r).rows[0]!;
}

/** Runs each shard of `args` into a file (one per core at a time); returns the files and their rows. */
async function shards(
  args: string[],
  count: number,
  name: string,
): Promise<{ files: string[]; rows: Row[] }> {
  const files: string[] = [];
  const rows: Row[] = [];
  const outs = await Promise.all(
    Array.from({ length: count }, (_, k) => mmraceAsync([...args, '--shard', `${k + 1}/${count}`, '--json'])),
  );
  for (const [k, r] of outs.entries()) {
    const i = k + 1;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const file = join(dir, `${name}-${i}.json`);
    writeFileSync(file, r.stdout);
    files.push(file);
    rows.push(json<{ rows: Row[] }>(r).rows[0]!);
  }
  return { files, rows };
}

function merged(files: string[]): Row {
  const r = mmrace(['merge', ...files, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return json<{ rows: Row[] }>(r).rows[0]!;
}

describe('the 2017 scenario, v4.15 under DFS with bound 1: shards sum to the unsharded space', () => {
  const dfs = [ID, '--variant', 'v4.15', '--strategy', 'dfs', '--preemptions', '1', '--runs', '100000'];
  let unsharded: number | undefined;
  const whole = () => (unsharded ??= row(['repro', ...dfs]).explored);

  it('unsharded', () => {
    expect(whole()).toBeGreaterThan(1000);
  }, 60_000);

  // n = 2 is covered by the synthetic programs above (n = 1..5); the real scenario once, n = 3.
  it.each([3])('%i shards', async (count) => {
    const { files, rows } = await shards(['repro', ...dfs], count, `dfs${count}`);
    const counts = rows.map((r) => r.explored);
    console.log(`v4.15 dfs bound 1: ${counts.join(' + ')} = ${whole()} (unsharded)`);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(whole());
    for (const r of rows) expect(r.shard).toMatchObject({ exhausted: true, block: null });
    expect(rows.map((r) => r.shard!.probeRuns)).toEqual(rows.map((_, i) => (i === 0 ? 0 : 1)));
    const m = merged(files);
    expect(m).toMatchObject({ observed: 'clean', explored: whole(), hits: 0, error: null });
    expect(m.merged!.explored).toEqual(counts);
  }, 120_000);
});

describe('merge of a buggy random-strategy campaign: the unsharded hits and first failing seed', () => {
  const args = ['repro', ID, '--variant', 'v4.14', '--strategy', 'random', '--runs', '200', '--seed', '7'];
  let unsharded: Row | undefined;
  const once = () => (unsharded ??= row(args));

  it('v4.14, 200 runs, unsharded', () => {
    expect(once().hits).toBeGreaterThan(0);
  }, 60_000);

  it('v4.14, 200 runs, 4 shards merged', async () => {
    const whole = once();
    const { files, rows } = await shards(args, 4, 'random');
    expect(rows.map((r) => r.shard!.block)).toEqual([
      { first: 0, last: 49, seeds: { first: 7, last: 56 } },
      { first: 50, last: 99, seeds: { first: 57, last: 106 } },
      { first: 100, last: 149, seeds: { first: 107, last: 156 } },
      { first: 150, last: 199, seeds: { first: 157, last: 206 } },
    ]);
    const m = merged(files);
    console.log(
      `v4.14 random: unsharded ${whole.hits}/200, merged ${m.hits}/${m.runs} (${m.merged!.hits.join(' + ')})`,
    );
    expect(m).toMatchObject({
      observed: 'reproduces',
      runs: 200,
      hits: whole.hits,
      firstHitSeed: whole.firstHitSeed,
      schedule: whole.schedule,
    });
    expect(m.firstHit).toMatchObject({ run: whole.firstHit!.run, seed: whole.firstHit!.seed });
    // A shard's run r is the unsharded run r: its first hit is one of the unsharded campaign's.
    const later = rows.find((r) => r.shard!.index > 1 && r.firstHit)!;
    expect(later.firstHit!.seed).toBe(later.firstHit!.run + 7);
    // The text report counts shards (files), not machines.
    const text = mmrace(['merge', ...files]);
    expect(text.stdout).toMatch(/v4\.14: 4 shards, runs 50 \+ 50 \+ 50 \+ 50 = 200; hits /);
  }, 120_000);

  it('PCT learns its step bound from run 0 when sharded: 3 shards merge to --shard 1/1', async () => {
    const args = ['repro', ID, '--variant', 'v4.14', '--strategy', 'pct', '--runs', '45'];
    const whole = row([...args, '--shard', '1/1']);
    const { files, rows } = await shards(args, 3, 'pct');
    expect(rows.map((r) => r.shard!.probeRuns)).toEqual([0, 1, 1]);
    const m = merged(files);
    expect(m).toMatchObject({
      runs: 45,
      hits: whole.hits,
      firstHitSeed: whole.firstHitSeed,
      schedule: whole.schedule,
    });
  }, 120_000);
});

describe('merge refuses what is not one campaign', () => {
  const runs = (extra: string[]) => ['repro', ID, '--variant', 'v4.15', '--runs', '4', ...extra];
  const file = (name: string, args: string[]) => {
    const r = mmrace([...args, '--json']);
    const f = join(dir, `${name}.json`);
    writeFileSync(f, r.stdout);
    return f;
  };

  /** Shard 2/2's output, edited: another campaign's, another split's, an unsharded run's. */
  const edited = (from: string, name: string, edit: (shard: Record<string, unknown>, row: Row) => void) => {
    const out = JSON.parse(readFileSync(from, 'utf8')) as { rows: Row[] };
    edit(out.rows[0]!.shard as unknown as Record<string, unknown>, out.rows[0]!);
    const f = join(dir, `${name}.json`);
    writeFileSync(f, JSON.stringify(out));
    return f;
  };

  it('a missing, repeated or foreign shard, a plain run, a bad file: one line, exit 2', () => {
    const a = file('m1', runs(['--shard', '1/2']));
    const b = file('m2', runs(['--shard', '2/2']));
    const other = edited(b, 'm2-seed', (s) => {
      (s.campaign as { seed: number }).seed = 9;
    });
    const plain = edited(b, 'plain', (_, r) => {
      delete r.shard;
    });
    const three = edited(b, 'm3', (s) => {
      s.count = 3;
    });
    const junk = join(dir, 'junk.json');
    writeFileSync(junk, '{"schema": 1, "rows": [');
    expect((JSON.parse(readFileSync(a, 'utf8')) as { rows: Row[] }).rows[0]!.shard).toMatchObject({
      index: 1,
      count: 2,
      block: { first: 0, last: 1, seeds: { first: 1, last: 2 } },
    });
    for (const [files, message] of [
      [[a], /shard 2\/2 missing/],
      [[a, a], /are both shard 1\/2/],
      [[a, other], /shards of different campaigns/],
      [[a, plain], /not a shard's output/],
      [[a, three], /split the campaign differently/],
      [[a, junk], /junk\.json is not JSON/],
      [[a, join(dir, 'nosuch.json')], /cannot read .*nosuch\.json: ENOENT/],
    ] as const) {
      const r = mmrace(['merge', ...files]);
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(mmrace(['merge', a, b]).code).toBe(0);
  }, 120_000);
});

describe('deploy/: the manifests parse and run the sharded command', () => {
  const docs = (path: string) => {
    const all = parseAllDocuments(readFileSync(path, 'utf8'));
    for (const d of all) expect(d.errors).toEqual([]);
    // biome-ignore lint/suspicious/noExplicitAny: the manifests are free-form YAML, checked field by field
    return all.map((d) => d.toJS() as Record<string, any>);
  };

  it('Kubernetes: an Indexed Job whose pod k runs shard k+1 of completions, and its merge', () => {
    const [pvc, job] = docs('deploy/k8s-indexed-job.yaml');
    expect(pvc).toMatchObject({ apiVersion: 'v1', kind: 'PersistentVolumeClaim' });
    expect(pvc!.spec.accessModes).toEqual(['ReadWriteMany']);
    expect(job).toMatchObject({ apiVersion: 'batch/v1', kind: 'Job', spec: { completionMode: 'Indexed' } });
    const spec = job!.spec;
    const c = spec.template.spec.containers[0];
    const env = Object.fromEntries(c.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(Number(env.SHARDS)).toBe(spec.completions);
    expect(spec.parallelism).toBe(spec.completions);
    expect(spec.template.spec.restartPolicy).toBe('Never');
    const script = c.args.join('\n');
    expect(script).toMatch(/i=\$\(\(JOB_COMPLETION_INDEX \+ 1\)\)/);
    expect(script).toMatch(/--shard "\$i\/\$SHARDS" --json/);
    expect(c.volumeMounts[0].mountPath).toBe('/results');
    expect(spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe(pvc!.metadata.name);
    // The campaign it runs is a valid command line (one schedule, as the last shard).
    const campaign = String(env.CAMPAIGN).split(/\s+/).filter(Boolean);
    const last = `${spec.completions}/${spec.completions}`;
    const r = mmrace([...campaign.map((w) => (w === '10000000' ? '1' : w)), '--shard', last, '--json']);
    expect(r.code).toBe(0);
    expect(json(r).rows[0]).toMatchObject({ shard: { index: spec.completions, count: spec.completions } });
    const [merge] = docs('deploy/k8s-merge-job.yaml');
    expect(merge).toMatchObject({ kind: 'Job' });
    expect(merge!.spec.template.spec.containers[0].args.join(' ')).toMatch(/merge \/results\/shard-\*\.json/);
  }, 60_000);

  it('CI matrix: one job per shard 1..n, then a merge job that needs them', () => {
    const [wf] = docs('deploy/github/mmrace-sharded.yml');
    const shard = wf!.jobs.shard;
    const n = Number(shard.env.SHARDS);
    expect(shard.strategy.matrix.shard).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const run = shard.steps.map((s: { run?: string }) => s.run ?? '').join('\n');
    expect(run).toMatch(
      /--shard "\$\{\{ matrix\.shard \}\}\/\$SHARDS" --json > "shard-\$\{\{ matrix\.shard \}\}\.json"/,
    );
    expect(wf!.jobs.merge.needs).toBe('shard');
    const merge = wf!.jobs.merge.steps.map((s: { run?: string }) => s.run ?? '').join('\n');
    expect(merge).toMatch(/dist\/cli\.js merge shard-\*\.json/);
  });
});
