// `mmrace merge <results.json...>`: the shards' `--json` outputs (`--shard i/n`) as one verdict
// table, printed as `repro` prints it. Every file must be a shard of the same campaign, each shard
// once and none missing; anything else is bad input (one line, exit 2).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { mergeRows } from '../report/merge_rows.js';
import { JSON_SCHEMA_VERSION, type VerdictRow } from '../report/verdict.js';
import { loadZod } from '../scenarios/lazy_zod.js';
import type { ShardInfo } from '../scenarios/shard_plan.js';
import { UsageError } from './args.js';
import { printOutcome, type ReproOutcome } from './repro.js';

// Built on first use: zod loads only for `merge` (lazy_zod.ts).
let fileSchemaBuilt: ReturnType<typeof buildFileSchema> | undefined;

function buildFileSchema() {
  const z = loadZod();
  const shardSchema = z.looseObject({
    index: z.number().int().min(1),
    count: z.number().int().min(1),
    split: z.enum(['runs', 'dfs']),
    campaign: z.looseObject({ seed: z.number(), runs: z.number() }),
  });
  const rowSchema = z.looseObject({
    id: z.string(),
    variant: z.string(),
    era: z.string(),
    expected: z.string(),
    runs: z.number().int().min(0),
    hits: z.number().int().min(0),
    checkFailures: z.number().int().min(0),
    acceptable: z.number().int().min(0).optional(),
    unexpected: z.number().int().min(0).optional(),
    explored: z.number().int().min(0),
    firstHitSeed: z.number().nullable(),
    error: z.string().nullable(),
    shard: shardSchema.optional(),
  });
  return z.looseObject({
    schema: z.number(),
    eras: z.array(z.string()).optional(),
    runsPerEra: z.number().optional(),
    rows: z.array(rowSchema).min(1),
  });
}

interface ShardFile {
  file: string;
  shard: ShardInfo;
  eras?: string[] | undefined;
  runsPerEra?: number | undefined;
  rows: VerdictRow[];
}

/** One shard's `--json` output, checked: readable JSON of this schema, every row of one shard. */
function readShard(file: string): ShardFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`merge: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UsageError(`merge: ${file} is not JSON (expected the --json output of a --shard run)`);
  }
  const parsed = (fileSchemaBuilt ??= buildFileSchema()).safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(
      `merge: ${file}: not a --json output (${issue.path.join('.') || 'top'}: ${issue.message})`,
    );
  }
  const p = parsed.data;
  if (p.schema !== JSON_SCHEMA_VERSION)
    throw new UsageError(`merge: ${file}: JSON schema ${p.schema}, this mmrace reads ${JSON_SCHEMA_VERSION}`);
  const rows = p.rows as unknown as VerdictRow[];
  const shard = rows[0]!.shard;
  if (!shard) throw new UsageError(`merge: ${file}: not a shard's output (run it with --shard i/n --json)`);
  if (rows.some((r) => r.shard?.index !== shard.index || r.shard.count !== shard.count))
    throw new UsageError(`merge: ${file}: rows of different shards`);
  return { file, shard, eras: p.eras, runsPerEra: p.runsPerEra, rows };
}

/** The files in shard order: one campaign's shards 1..n, each once. */
function checkShards(files: ShardFile[]): ShardFile[] {
  const n = files[0]!.shard.count;
  const name = (f: ShardFile) => `${f.file} (shard ${f.shard.index}/${f.shard.count})`;
  const other = files.find((f) => f.shard.count !== n);
  if (other)
    throw new UsageError(`merge: ${name(files[0]!)} and ${name(other)} split the campaign differently`);
  const byIndex = new Map<number, ShardFile>();
  for (const f of files) {
    const dup = byIndex.get(f.shard.index);
    if (dup) throw new UsageError(`merge: ${dup.file} and ${f.file} are both shard ${f.shard.index}/${n}`);
    byIndex.set(f.shard.index, f);
  }
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length > 0)
    throw new UsageError(
      `merge: shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${n}`).join(', ')} missing`,
    );
  const sorted = [...byIndex.keys()].sort((a, b) => a - b).map((i) => byIndex.get(i)!);
  for (const f of sorted.slice(1)) sameCampaign(sorted[0]!, f);
  return sorted;
}

const rowKey = (r: VerdictRow) => `${r.id} ${r.variant} (era ${r.era})`;
const campaignKey = (r: VerdictRow) => JSON.stringify(r.shard?.campaign);

/** Two shards of one campaign: the same rows, each from the same campaign settings. */
function sameCampaign(a: ShardFile, b: ShardFile): void {
  const ka = a.rows.map(rowKey).join(', ');
  const kb = b.rows.map(rowKey).join(', ');
  if (ka !== kb) throw new UsageError(`merge: ${a.file} has rows ${ka}; ${b.file} has ${kb}`);
  if (JSON.stringify([a.eras, a.runsPerEra]) !== JSON.stringify([b.eras, b.runsPerEra]))
    throw new UsageError(`merge: ${a.file} and ${b.file} ran different era matrices`);
  a.rows.forEach((r, i) => {
    if (campaignKey(r) !== campaignKey(b.rows[i]!))
      throw new UsageError(
        `merge: ${a.file} and ${b.file} are shards of different campaigns (${rowKey(r)}: ${campaignKey(r)} vs ${campaignKey(b.rows[i]!)})`,
      );
  });
}

/** The merged verdicts: exit 0 every verdict as expected, 1 one differs, 3 a shard ended in an error. */
export function mergeFiles(paths: readonly string[]): { outcome: ReproOutcome; seed: number } {
  const files = checkShards(paths.map(readShard));
  const first = files[0]!;
  const rows = first.rows.map((_, i) => mergeRows(files.map((f) => f.rows[i]!)));
  const code = rows.some((r) => r.error) ? 3 : rows.every((r) => r.ok) ? 0 : 1;
  const matrix =
    first.eras && first.runsPerEra !== undefined
      ? { matrix: { eras: first.eras, runsPerEra: first.runsPerEra, lowered: false } }
      : {};
  return { outcome: { rows, code, ...matrix }, seed: first.shard.campaign.seed };
}

export function mergeCommand(program: Command, color: boolean, setCode: (code: number) => void): void {
  program
    .command('merge')
    .argument(
      '<results...>',
      "the shards' --json outputs (mmrace repro ... --shard i/n --json > shard-i.json)",
    )
    .description("combine a sharded campaign's --json outputs into one verdict table")
    .option('--json', 'print the merged verdicts as JSON')
    .option('--dmesg', 'print the kernel log of the first hit')
    .action((paths: string[], o: { json?: boolean; dmesg?: boolean }) => {
      const { outcome, seed } = mergeFiles(paths);
      printOutcome(outcome, { ...o, seed }, color, undefined, { files: paths });
      setCode(outcome.code);
    });
}
