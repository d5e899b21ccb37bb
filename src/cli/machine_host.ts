// One machine of `--machines N`, inside its host thread (workers/host.ts): it runs shards of the
// campaign exactly as `--shard i/n` would, on a Machine of its own, and replies with their rows.
// A thread per machine, not N machines on one thread: the main thread's kernel code works on the
// arena of the machine attached last, in module-level state, so two machines on one thread would
// take turns; a worker thread has its own copy of every module.
import { parentPort, workerData } from 'node:worker_threads';
import { shareCores } from '../cpu/machine.js';
import { sourceMappedStack } from '../kernel/stack_frames.js';
import type { VerdictRow } from '../report/verdict.js';
import { shutdownMachine } from '../scenarios/campaign.js';
import { type CatalogueEntry, findScenario, loadScenarioFile } from '../scenarios/catalogue.js';
import { UsageError } from './args.js';
import { badInput } from './bad_input.js';
import { builtinEntries, type MatrixInfo, type ReproOptions, runEntries } from './repro.js';

/**
 * What the command runs, named so that a host can find it again: the scenarios themselves hold
 * functions, which cannot be sent to another thread.
 */
export type CampaignTarget =
  | { kind: 'builtin' }
  | { kind: 'scenario'; id: string }
  | { kind: 'file'; path: string };

/**
 * A host's work: machine `index` of `count`, with the command's flags. It runs shards of the
 * campaign, `shards` in all, taking the next one from `queue` (an Int32 counter shared by every
 * machine) until none is left: one each for seeded campaigns, several each for DFS, whose
 * subtrees differ in size beyond what the split can foresee.
 */
export interface HostTask {
  index: number;
  count: number;
  shards: number;
  queue: SharedArrayBuffer;
  target: CampaignTarget;
  options: ReproOptions;
}

/** The rows of one shard this host ran. */
export interface ShardRows {
  shard: number;
  rows: VerdictRow[];
}

export type HostReply =
  | { kind: 'done'; shards: ShardRows[]; matrix?: MatrixInfo }
  /** The user's input, found only once running (a scenario's setup that throws): exit 2. */
  | { kind: 'bad-input'; message: string }
  /** mmrace's own error: reported as the machine's crash. */
  | { kind: 'failed'; message: string };

async function entriesOf(t: CampaignTarget): Promise<readonly CatalogueEntry[]> {
  if (t.kind === 'builtin') return builtinEntries();
  if (t.kind === 'file') return [await loadScenarioFile(t.path)];
  const e = findScenario(t.id);
  if (!e) throw new UsageError(`unknown scenario '${t.id}' (see 'mmrace list')`);
  return [e];
}

/** Runs shards from the queue until it is empty; never throws. Its CPU threads have ended when it returns. */
export async function runHost(task: HostTask): Promise<HostReply> {
  try {
    shareCores(task.count);
    const entries = await entriesOf(task.target);
    const queue = new Int32Array(task.queue);
    const shards: ShardRows[] = [];
    let matrix: MatrixInfo | undefined;
    for (
      let index = Atomics.add(queue, 0, 1) + 1;
      index <= task.shards;
      index = Atomics.add(queue, 0, 1) + 1
    ) {
      const out = await runEntries(entries, { ...task.options, shard: { index, count: task.shards } });
      shards.push({ shard: index, rows: out.rows });
      matrix ??= out.matrix;
    }
    return { kind: 'done', shards, ...(matrix ? { matrix } : {}) };
  } catch (e) {
    // Classified here: the error's class does not survive the trip to the parent thread.
    const bad = badInput(e);
    if (bad !== null) return { kind: 'bad-input', message: bad };
    return { kind: 'failed', message: sourceMappedStack((e as Error)?.stack ?? String(e)) };
  } finally {
    await shutdownMachine();
  }
}

/** A machine host thread: runs its shards of the campaign and posts their rows to the command's thread. */
export async function hostThreadMain(): Promise<void> {
  // As the command's own thread does (command.ts): kernel reports' call traces are deep stacks.
  Error.stackTraceLimit = 64;
  parentPort!.postMessage(await runHost(workerData as HostTask));
}
