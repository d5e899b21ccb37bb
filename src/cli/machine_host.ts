// One machine of `--machines N`, inside its host process (workers/host.ts): it runs shards of the
// campaign exactly as `--shard i/n` would, on a Machine of its own, and replies with their rows.
// Not N machines on one thread: the main thread's kernel code works on the arena of the machine
// attached last, in module-level state, so two machines on one thread would take turns. Nor a
// host thread each (the design until 2026-12): V8 wakes an Atomics.wait sleeper holding one
// process-wide mutex, so the sleeping handoffs of all a process's machines queue on it (npm run
// bench -- machines). DFS of the 2017 scenario on 2 machines of a 2-vCPU guest explored ~2,800
// schedules/s as threads, one machine's rate, and ~5,900/s as processes.
import { Worker } from 'node:worker_threads';
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
 * campaign, `shards` in all, asking the command for the next one until none is left: one each
 * for seeded campaigns, several each for DFS, whose subtrees differ in size beyond what the split
 * can foresee.
 */
export interface HostTask {
  index: number;
  count: number;
  shards: number;
  target: CampaignTarget;
  options: ReproOptions;
}

/** The command's messages to a host: its task, then each shard it asked for (null: none left). */
export type HostOrder = { kind: 'task'; task: HostTask } | { kind: 'shard'; index: number | null };

/** A host's messages to the command: a request for its next shard, then its reply. */
export type HostMessage = { kind: 'next' } | HostReply;

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

/**
 * Runs the shards `next` hands out until it says none is left; never throws. Its CPU threads have
 * ended when it returns.
 */
export async function runHost(task: HostTask, next: () => Promise<number | null>): Promise<HostReply> {
  try {
    shareCores(task.count);
    const entries = await entriesOf(task.target);
    const shards: ShardRows[] = [];
    let matrix: MatrixInfo | undefined;
    for (let index = await next(); index !== null; index = await next()) {
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

/**
 * A machine host process: takes its task from the command (over the IPC channel fork() opened),
 * runs its shards of the campaign and sends their rows back. It ends with the channel: when the
 * command goes, so does the machine.
 */
export function hostProcessMain(): void {
  // As the command's own thread does (command.ts): kernel reports' call traces are deep stacks.
  Error.stackTraceLimit = 64;
  // Ctrl-C reaches the terminal's whole process group: the command stops its machines itself.
  process.on('SIGINT', () => {});
  process.on('disconnect', () => process.exit(0));
  // What a host thread's 'error' event carried: the machine's crash, with its stack, in one reply.
  const crashed = (e: unknown) =>
    send({ kind: 'failed', message: sourceMappedStack((e as Error)?.stack ?? String(e)) }, () =>
      process.exit(1),
    );
  process.on('uncaughtException', crashed);
  process.on('unhandledRejection', crashed);
  watchParent();
  let shardWanted: ((index: number | null) => void) | null = null;
  const next = () =>
    new Promise<number | null>((resolve) => {
      shardWanted = resolve;
      send({ kind: 'next' });
    });
  process.on('message', (m: HostOrder) => {
    if (m.kind === 'shard') shardWanted?.(m.index);
    else void runHost(m.task, next).then((reply) => send(reply, () => process.disconnect()));
  });
}

/**
 * A host whose command died without closing the channel (SIGKILL) would run on, as its event
 * loop, where 'disconnect' arrives, may not turn until a shard ends: a thread of its own sees
 * the host handed to another parent and kills the process.
 */
function watchParent(): void {
  const watch = new Worker(
    `const parent = process.ppid;
     setInterval(() => { if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL'); }, ${PARENT_POLL_MS});`,
    { eval: true },
  );
  watch.unref();
}

/** How often a host looks whether its command is still there. */
const PARENT_POLL_MS = 250;

function send(m: HostMessage, then?: () => void): void {
  process.send!(m, undefined, undefined, then);
}
