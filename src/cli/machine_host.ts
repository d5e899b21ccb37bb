// One machine of `--machines N`, inside its host thread (workers/host.ts): it runs shard i of N of
// the campaign exactly as `--shard i/N` would, on a Machine of its own, and replies with its rows.
// A thread per machine, not N machines on one thread: the main thread's kernel code works on the
// arena of the machine attached last, in module-level state, so two machines on one thread would
// take turns; a worker thread has its own copy of every module.
import { parentPort, workerData } from 'node:worker_threads';
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

/** A host's work: shard `index` of `count`, with the command's flags. */
export interface HostTask {
  index: number;
  count: number;
  target: CampaignTarget;
  options: ReproOptions;
}

export type HostReply =
  | { kind: 'done'; rows: VerdictRow[]; code: number; matrix?: MatrixInfo }
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

/** Runs the host's shard; never throws. Its CPU threads have ended when it returns. */
export async function runHost(task: HostTask): Promise<HostReply> {
  try {
    const entries = await entriesOf(task.target);
    const shard = { index: task.index, count: task.count };
    const out = await runEntries(entries, { ...task.options, shard });
    return { kind: 'done', rows: out.rows, code: out.code, ...(out.matrix ? { matrix: out.matrix } : {}) };
  } catch (e) {
    // Classified here: the error's class does not survive the trip to the parent thread.
    const bad = badInput(e);
    if (bad !== null) return { kind: 'bad-input', message: bad };
    return { kind: 'failed', message: sourceMappedStack((e as Error)?.stack ?? String(e)) };
  } finally {
    await shutdownMachine();
  }
}

/** A machine host thread: runs its shard of the campaign and posts the rows to the command's thread. */
export async function hostThreadMain(): Promise<void> {
  // As the command's own thread does (command.ts): kernel reports' call traces are deep stacks.
  Error.stackTraceLimit = 64;
  parentPort!.postMessage(await runHost(workerData as HostTask));
}
