// `--machines N`: one campaign on N emulated machines at once, on this host. Each machine is a
// host process (machine_process.ts) with its own arena and CPU threads, running shards of the
// campaign exactly as `--shard i/n` runs them; the command merges the shards' rows as `mmrace
// merge` merges shards' files. So N changes how fast a campaign goes, never what it finds: every
// N gives `--shard 1/1`'s verdicts, hits and first failing run. A seeded campaign splits into N
// equal blocks of runs, one per machine. A DFS tree splits into DFS_SHARDS_PER_MACHINE * N shards
// that the machines take in turn as they finish: its subtrees' sizes are only estimated from the
// spine, and with one shard each the first machine to finish sat idle (v4.15 of the 2017
// scenario, bound 2: 101,207 against 166,519 schedules).
import { mergeRows } from '../report/merge_rows.js';
import type { VerdictRow } from '../report/verdict.js';
import type { CatalogueEntry } from '../scenarios/catalogue.js';
import { UsageError } from './args.js';
import { plural } from './era_matrix.js';
import type { CampaignTarget } from './machine_host.js';
import { type HostDone, MachineCrashError, MachineProcess } from './machine_process.js';
import { exitNow } from './output.js';
import { checkCampaign, type ReproOptions, type ReproOutcome, runEntries } from './repro.js';

/** The command's campaign: on this thread's machine, or with --machines on N host processes. */
export function runCampaign(
  target: CampaignTarget,
  entries: readonly CatalogueEntry[],
  o: ReproOptions,
): Promise<ReproOutcome> {
  return o.machines === undefined ? runEntries(entries, o) : runOnMachines(target, entries, o, o.machines);
}

/** Flags that mean one machine's runs, or a single schedule: refused with --machines. */
function checkMachineFlags(o: ReproOptions): void {
  if (o.shard)
    throw new UsageError(
      '--machines N runs shards 1..N of the campaign itself; --shard i/n picks one: give one or the other',
    );
  if (o.replay !== undefined)
    throw new UsageError('--machines splits a campaign; a --replay runs one schedule (give --runs instead)');
  if (o.trace !== undefined)
    throw new UsageError("--trace writes one machine's runs: run it without --machines");
  if (o.lockStat) throw new UsageError("--lock-stat counts one machine's locks: run it without --machines");
}

async function runOnMachines(
  target: CampaignTarget,
  entries: readonly CatalogueEntry[],
  o: ReproOptions,
  n: number,
): Promise<ReproOutcome> {
  checkMachineFlags(o);
  // Bad input is refused here, once, before any machine starts (each host checks again).
  checkCampaign(entries, { ...o, shard: { index: 1, count: n } });
  const { machines: _, ...options } = o;
  const shards = o.strategy === 'dfs' && n > 1 ? n * DFS_SHARDS_PER_MACHINE : n;
  let taken = 0;
  const nextShard = () => (taken < shards ? ++taken : null);
  const hosts = Array.from(
    { length: n },
    (_, i) => new MachineProcess({ index: i + 1, count: n, shards, target, options }, nextShard),
  );
  const stopAll = () => Promise.all(hosts.map((h) => h.stop()));
  let stopping = false;
  const interrupted = (signal: NodeJS.Signals, code: number) => () => {
    stopping = true;
    process.stderr.write(`mmrace: ${signal}: stopping ${plural(n, 'machine')}\n`);
    void stopAll().finally(() => exitNow(code));
  };
  const onInt = interrupted('SIGINT', 130);
  const onTerm = interrupted('SIGTERM', 143);
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  try {
    // The first machine to fail rejects this; the finally stops the others.
    return mergeMachines(await Promise.all(hosts.map((h) => h.result)));
  } catch (e) {
    // Stopped on a signal: the machines' deaths are ours, and the handler ends the command.
    if (stopping) await new Promise(() => {});
    throw e instanceof MachineCrashError && n > 1 ? othersStopped(e, n) : e;
  } finally {
    await stopAll();
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

/** The crash's first line says the other machines were stopped (its report, if any, follows). */
function othersStopped(e: MachineCrashError, n: number): MachineCrashError {
  const [first, ...rest] = e.message.split('\n');
  const others = n === 2 ? 'the other machine was' : `the other ${n - 1} machines were`;
  return new MachineCrashError([`${first}; ${others} stopped`, ...rest].join('\n'));
}

const rowKey = (r: VerdictRow) => `${r.id} ${r.variant} (era ${r.era})`;

/** Shards per machine in a DFS campaign: enough that the last shards even out the machines' ends. */
const DFS_SHARDS_PER_MACHINE = 8;

/** The shards' rows as one table, in shard order: row by row, as `mmrace merge` merges shards. */
function mergeMachines(done: readonly HostDone[]): ReproOutcome {
  const shards = done.flatMap((d) => d.shards).sort((a, b) => a.shard - b.shard);
  const first = shards[0]!;
  const keys = first.rows.map(rowKey).join(', ');
  for (const d of shards)
    if (d.rows.map(rowKey).join(', ') !== keys)
      throw new Error(`shards ran different rows: ${keys} vs ${d.rows.map(rowKey).join(', ')}`);
  const rows = first.rows.map((_, i) => onMachines(mergeRows(shards.map((d) => d.rows[i]!)), done, i));
  const code = rows.some((r) => r.error) ? 3 : rows.every((r) => r.ok) ? 0 : 1;
  const matrix = done.find((d) => d.matrix)?.matrix;
  return { rows, code, machines: done.length, shards: shards.length, ...(matrix ? { matrix } : {}) };
}

/**
 * A merged row's time and rate as the machines ran it: a machine runs its shards one after the
 * other, so its time is their sum, and the row's is the slowest machine's (mergeRows takes the
 * slowest shard and adds the shards' rates, right for shards that all ran at once).
 */
function onMachines(row: VerdictRow, done: readonly HostDone[], i: number): VerdictRow {
  const wallMs = Math.max(0, ...done.map((d) => d.shards.reduce((a, s) => a + s.rows[i]!.wallMs, 0)));
  const runsPerSec = row.runs > 0 && wallMs > 0 ? Math.round((row.runs / (wallMs / 1000)) * 10) / 10 : 0;
  return { ...row, wallMs, runsPerSec };
}
