// Running scenarios from the command line: the verdict table, one scenario, a user's file.
import { MAX_CPUS } from '../cpu/control.js';
import type { PointGranularity } from '../cpu/granularity.js';
import { decodeSchedule } from '../cpu/schedule.js';
import type { StrategyConfig, StrategyName } from '../cpu/strategies/index.js';
import type { OnDivergence } from '../cpu/strategies/replay.js';
import type { Shard } from '../cpu/strategies/shard.js';
import { lockStatClear } from '../kernel/locking/lock_stat.js';
import { lockStatText } from '../kernel/locking/lockdep_proc.js';
import { lock_stat_enable, lockdep_enable } from '../kernel/locking/lockdep_state.js';
import {
  JSON_SCHEMA_VERSION,
  renderTable,
  toRow,
  unexpectedLines,
  type VerdictRow,
} from '../report/verdict.js';
import { runVariant, sharedMachine } from '../scenarios/campaign.js';
import { BUILTIN, type CatalogueEntry } from '../scenarios/catalogue.js';
import { replayRecordings } from '../scenarios/record_replay.js';
import type { Scenario, Variant } from '../scenarios/scenario.js';
import { type ShardCampaign, shardInfo } from '../scenarios/shard_plan.js';
import { UsageError } from './args.js';
import {
  MATRIX_RUN_BUDGET,
  matrixLabel,
  matrixRuns,
  matrixVariants,
  plural,
  renderMatrix,
} from './era_matrix.js';
import { machineLines, machinesHeading } from './machine_lines.js';
import { setCodeIfStdoutCloses } from './output.js';
import { progressBar, wantsProgress } from './progress.js';
import { type RecordFlags, recordCapOf, recordLines } from './record.js';
import { replayCommand } from './replay_command.js';
import { mergedLines, shardLines } from './shard_lines.js';
import { checkShrinkFlags, shrinkLines, shrinkRow } from './shrink.js';
import { checkTracePath, type TraceWritten, tracePathFor, writeVariantTrace } from './trace_file.js';

export interface ReproOptions extends RecordFlags {
  variant?: string;
  /** --eras: run each scenario against these eras (the era matrix), parsed by parseEras. */
  eras?: string[];
  runs?: number;
  seed?: number;
  cpus?: number;
  json?: boolean;
  dmesg?: boolean;
  lockdep?: boolean;
  lockStat?: boolean;
  mode?: 'free' | 'controlled';
  strategy?: StrategyName;
  depth?: number;
  preemptions?: number;
  replay?: string;
  /** --replay: what to do when the run leaves the schedule. */
  onDivergence?: OnDivergence;
  /** Controlled mode: shrink the first failing schedule. */
  shrink?: boolean;
  /** End each variant's campaign at its first failing run. */
  stopOnHit?: boolean;
  /** --no-jitter (false): free mode without the scenario's jitter. */
  jitter?: boolean;
  /** Write a Chrome trace of the first failing run (else the last run) of each variant. */
  trace?: string;
  /** Scheduling granularity: coarse (default) or atomic (controlled mode). */
  points?: PointGranularity;
  /** --shard i/n: run only shard i of the campaign (its runs keep their seeds). */
  shard?: Shard;
  /** --machines N: run the campaign's N shards at once, each on its own machine (machines.ts). */
  machines?: number;
}

interface ModeChoice {
  mode: 'free' | 'controlled';
  strategy?: StrategyConfig;
}

/** --mode, --strategy, --depth, --preemptions and --replay, checked against each other. */
export function modeOf(o: ReproOptions): ModeChoice {
  const controlledFlags = o.strategy !== undefined || o.replay !== undefined;
  if (o.mode === 'free' && (controlledFlags || o.depth !== undefined || o.preemptions !== undefined)) {
    throw new UsageError('--strategy, --replay, --depth and --preemptions need --mode controlled');
  }
  if (o.replay !== undefined) {
    if (o.strategy !== undefined && o.strategy !== 'replay')
      throw new UsageError(`--replay cannot be combined with --strategy ${o.strategy}`);
    decodeSchedule(o.replay); // ScheduleError: one line, exit 2
    const onDivergence = o.onDivergence ?? 'stop';
    return { mode: 'controlled', strategy: { name: 'replay', schedule: o.replay, onDivergence } };
  }
  if (o.onDivergence !== undefined) throw new UsageError('--on-divergence is for --replay');
  if (o.strategy === 'replay') throw new UsageError('--strategy replay needs --replay <schedule>');
  if (o.mode !== 'controlled' && !controlledFlags) {
    if (o.depth !== undefined || o.preemptions !== undefined)
      throw new UsageError('--depth and --preemptions need --mode controlled');
    return { mode: 'free' };
  }
  const name = o.strategy ?? 'random';
  if (o.depth !== undefined && name !== 'pct') throw new UsageError('--depth is for --strategy pct');
  if (o.preemptions !== undefined && name !== 'dfs')
    throw new UsageError('--preemptions is for --strategy dfs');
  return {
    mode: 'controlled',
    strategy: {
      name,
      ...(o.depth !== undefined ? { depth: o.depth } : {}),
      ...(o.preemptions !== undefined ? { preemptions: o.preemptions } : {}),
    },
  };
}

export const DEFAULT_RUNS = 200;

export interface ReproOutcome {
  rows: VerdictRow[];
  /** /proc/lock_stat after the runs, with --lock-stat. */
  lockStat?: string;
  /** --trace: the files written. */
  traces?: TraceWritten[];
  /** 0 every verdict matches, 1 one does not, 3 a CPU crashed or a run hung. */
  code: number;
  /** --eras: the eras run, and the runs per era (lowered from DEFAULT_RUNS to fit the budget). */
  matrix?: MatrixInfo;
  /** --machines N: the rows are the merge of N machines' shards. */
  machines?: number;
  /** --machines N: the shards the machines ran (N, or more for DFS). */
  shards?: number;
}

export interface MatrixInfo {
  eras: string[];
  runsPerEra: number;
  /** The runs per era were lowered (no --runs) to keep each scenario's matrix within MATRIX_RUN_BUDGET. */
  lowered: boolean;
}

/** A campaign's flags, checked against each other and the scenarios before any run. */
export interface CheckedCampaign {
  mode: ModeChoice;
  /** --record: failing free runs to record and replay (0: none). */
  recordCap: number;
  /** Every scenario's variants: its own, or one per era with --eras. */
  plan: Map<CatalogueEntry, readonly Variant[]>;
}

/**
 * Every check of the flags that needs no run: bad input throws (UsageError, ScheduleError). The
 * --machines path calls it too, so bad input is refused before any machine starts.
 */
export function checkCampaign(entries: readonly CatalogueEntry[], o: ReproOptions): CheckedCampaign {
  const mode = modeOf(o);
  checkShrinkFlags(o.shrink, mode.mode);
  if (o.jitter === false && mode.mode !== 'free')
    throw new UsageError('--no-jitter is for free mode (controlled mode injects no jitter)');
  if (o.points === 'atomic' && mode.mode !== 'controlled')
    throw new UsageError('--points atomic needs --mode controlled (free mode has no decisions to add)');
  const recordCap = recordCapOf(o, mode.mode);
  if (o.shard && o.replay !== undefined)
    throw new UsageError('--shard splits a campaign; a --replay runs one schedule (give --runs instead)');
  if (o.stopOnHit && (o.shard || o.machines))
    throw new UsageError(
      `--stop-on-hit ends a campaign early; --${o.shard ? 'shard' : 'machines'} needs every run of its part for the merge`,
    );
  const replayCpus = o.replay !== undefined ? decodeSchedule(o.replay).ncpus : undefined;
  for (const e of entries) {
    if (replayCpus !== undefined && replayCpus !== e.scenario.cpus.length) {
      throw new UsageError(
        `the schedule is for ${replayCpus} CPUs; scenario ${e.scenario.id} has ${e.scenario.cpus.length}`,
      );
    }
    const need = e.scenario.cpus.length;
    if (o.cpus !== undefined && o.cpus < need) {
      throw new UsageError(`scenario ${e.scenario.id} needs ${need} CPUs, --cpus is ${o.cpus}`);
    }
    if (need > MAX_CPUS)
      throw new UsageError(`scenario ${e.scenario.id} needs ${need} CPUs; at most ${MAX_CPUS}`);
    if (o.variant === '') throw new UsageError(`--variant needs a name (see 'mmrace list')`);
  }
  const plan = new Map(entries.map((e) => [e, variantsOf(e.scenario, o)]));
  return { mode, recordCap, plan };
}

export async function runEntries(entries: readonly CatalogueEntry[], o: ReproOptions): Promise<ReproOutcome> {
  const { mode, recordCap, plan } = checkCampaign(entries, o);
  const choice = recordCap > 0 ? { ...mode, record: recordCap } : mode;
  const selected = (e: CatalogueEntry) => plan.get(e)!;
  const cells = entries.flatMap(selected).length;
  const several = { scenarios: entries.length > 1, variants: cells > 1 };
  // A matrix row is named by its era (with --variant, every row has the variant's name).
  const traceFile = (e: CatalogueEntry, v: Variant) =>
    tracePathFor(o.trace!, e.scenario.id, o.eras ? v.era : v.name, several);
  // Every trace file is tried before any run, so a bad path does not cost the campaign.
  if (o.trace !== undefined)
    for (const e of entries) for (const v of selected(e)) checkTracePath(traceFile(e, v));
  const traces: TraceWritten[] = [];
  const machine = sharedMachine();
  machine.attach();
  // lockdep is on by default in controlled mode, where its acquisition sites cost no stack capture
  // until a report prints them (the campaign replays that run for them: scenarios/report_replay.ts);
  // free mode, which cannot replay a run, captures every site and keeps it off unless asked.
  lockdep_enable(o.lockdep ?? mode.mode === 'controlled');
  lock_stat_enable(o.lockStat === true);
  if (o.lockStat) lockStatClear();
  const rows: VerdictRow[] = [];
  const seed = o.seed ?? 1;
  const runsPerVariant = o.runs ?? (o.replay !== undefined ? 1 : DEFAULT_RUNS);
  // Without --runs, a matrix over many eras runs fewer runs per era (and says so).
  const runs =
    o.eras && o.runs === undefined
      ? Math.min(
          runsPerVariant,
          matrixRuns(DEFAULT_RUNS, Math.max(...entries.map((e) => selected(e).length))),
        )
      : runsPerVariant;
  const bar = wantsProgress(o.json) ? progressBar() : null;
  for (const e of entries) {
    for (const v of selected(e)) {
      const trace = o.trace !== undefined;
      const points = o.points ?? 'coarse';
      const shard = o.shard ? { shard: o.shard } : {};
      const dfs = mode.mode === 'controlled' && mode.strategy?.name === 'dfs';
      const label = `${e.scenario.id} ${o.eras ? v.era : v.name}`;
      const onProgress = bar?.start(label, dfs ? null : runs, dfs ? 'schedules explored' : 'runs');
      const r = await runVariant(
        machine,
        e.scenario,
        v,
        {
          runs,
          seed,
          ...choice,
          trace,
          points,
          ...shard,
          ...(o.stopOnHit ? { stopOnHit: true } : {}),
          ...(o.jitter === false ? { noJitter: true } : {}),
          ...(onProgress ? { onProgress } : {}),
        },
        e.url,
      ).finally(() => bar?.stop());
      rows.push(toRow(r));
      if (o.shard)
        rows.at(-1)!.shard = shardInfo(o.shard, campaignOf(mode, runs, seed, points), rows.at(-1)!);
      if (o.shrink) await shrinkRow(rows.at(-1)!, machine, e.scenario, v, r, e.url);
      if (recordCap > 0)
        rows.at(-1)!.record = await replayRecordings(machine, e.scenario, v, r, e.url, recordCap);
      if (o.trace !== undefined) {
        const w = writeVariantTrace(traceFile(e, v), e.scenario, r);
        if (w) traces.push(w);
      }
    }
  }
  const lockStat = o.lockStat ? lockStatText() : undefined;
  const code = rows.some((r) => r.error) ? 3 : rows.every((r) => r.ok) ? 0 : 1;
  const matrix = o.eras ? { eras: o.eras, runsPerEra: runs, lowered: runs < runsPerVariant } : undefined;
  return {
    rows,
    code,
    ...(lockStat ? { lockStat } : {}),
    ...(o.trace !== undefined ? { traces } : {}),
    ...(matrix ? { matrix } : {}),
  };
}

/** What every shard of this campaign has in common (`mmrace merge` checks it). */
function campaignOf(mode: ModeChoice, runs: number, seed: number, points: PointGranularity): ShardCampaign {
  const st = mode.strategy;
  return {
    seed,
    runs,
    mode: mode.mode,
    strategy: st?.name ?? null,
    depth: st?.name === 'pct' ? (st.depth ?? 2) : null,
    preemptions: st?.name === 'dfs' ? (st.preemptions ?? 2) : null,
    points,
  };
}

/**
 * The variants to run: the scenario's (or --variant's, a name or a comma-separated list, in the
 * scenario's order), or with --eras one per era (era_matrix.ts).
 */
function variantsOf(s: Scenario, o: ReproOptions): readonly Variant[] {
  const wanted = o.variant?.split(',');
  if (o.eras) {
    if (wanted && wanted.length > 1)
      throw new UsageError(`--eras runs one --variant on every era, not a list ('${o.variant}')`);
    return matrixVariants(s, o.eras, o.variant);
  }
  const unknown = wanted?.find((w) => !s.variants.some((v) => v.name === w));
  if (unknown !== undefined) {
    const names = s.variants.map((v) => v.name).join(', ');
    const what = unknown === '' ? `an empty name in --variant '${o.variant}'` : `no variant '${unknown}'`;
    throw new UsageError(`scenario ${s.id} has ${what} (variants: ${names})`);
  }
  return s.variants.filter((v) => !wanted || wanted.includes(v.name));
}

/**
 * The report on stdout; every row that ended in an error (a crash, a hang, a stopped or diverged
 * replay, the scenario's own error) also gets one line on stderr, so no exit 3 is silent there.
 * `command`: how to run the scenario again (`mmrace run ./my-race.mjs` for a file).
 */
export function printOutcome(
  out: ReproOutcome,
  o: ReproOptions,
  color: boolean,
  command?: string,
  /** `mmrace merge`: the files merged (a field of the JSON, a line of the text). */
  merged?: { files: string[] },
): void {
  setCodeIfStdoutCloses(out.code);
  const m = out.matrix;
  // A matrix row is its era (or the variant on it); its schedules replay with --eras <era>.
  const label = (r: VerdictRow) => (m ? `${r.id} ${matrixLabel(r)}` : `${r.id} ${r.variant}`);
  const commandOf = (r: VerdictRow) => (m ? `${command ?? `mmrace repro ${r.id}`} --eras ${r.era}` : command);
  for (const r of out.rows) {
    if (r.error) process.stderr.write(`mmrace: ${label(r)}: ${r.error.split('\n')[0]}\n`);
    else if (r.divergence) process.stderr.write(`mmrace: ${label(r)}: ${r.divergence}\n`);
  }
  if (o.json) {
    const json = {
      schema: JSON_SCHEMA_VERSION,
      ok: out.code === 0,
      ...(m ? { eras: m.eras, runsPerEra: m.runsPerEra } : {}),
      ...(o.shard ? { shard: o.shard } : {}),
      ...(merged ? { merged } : {}),
      ...(out.machines ? { machines: out.machines } : {}),
      ...(out.shards !== undefined && out.shards !== out.machines ? { shards: out.shards } : {}),
      rows: out.rows,
      lockStat: out.lockStat,
      traces: out.traces,
    };
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    return;
  }
  const lines = m
    ? [matrixHeading(out, m, o), renderMatrix(out.rows, color)]
    : [renderTable(out.rows, color)];
  if (merged) lines.push('', `merged ${merged.files.length} shards: ${merged.files.join(' ')}`);
  if (out.machines) lines.push('', machinesHeading(out.machines, out.shards ?? out.machines));
  for (const r of out.rows) {
    const again = commandOf(r);
    // Per machine when each ran one shard; per shard for DFS's shards taken in turn, and for merge.
    const perMachine = out.machines !== undefined && out.machines === out.shards;
    const parts = perMachine ? machineLines(r, label(r)) : mergedLines(r, label(r));
    lines.push(...shardLines(r, label(r)), ...parts);
    if (r.error) lines.push('', `${label(r)}: ${r.error}`);
    const showDmesg = o.dmesg ?? out.rows.length === 1;
    if (r.firstHit && showDmesg) {
      lines.push(
        '',
        r.mode === 'controlled'
          ? `--- first hit: run ${r.firstHit.run} (controlled mode: its schedule, printed below, replays it exactly)`
          : o.jitter === false
            ? `--- first hit: run ${r.firstHit.run} (free mode without jitter: the host's timing alone decided)`
            : `--- first hit: run ${r.firstHit.run}, jitter seed ${r.firstHit.seed} (--seed ${r.firstHit.seed} injects the same jitter again; in free mode timing still decides)`,
      );
      lines.push(...r.firstHit.dmesg);
    }
    if (r.firstCheckFailure) {
      const f = r.firstCheckFailure;
      lines.push('', `--- final check '${f.check}' failed in run ${f.run} (seed ${f.seed}): ${f.detail}`);
    }
    lines.push(...unexpectedLines(r, label(r)));
    const odd = r.firstUnexpected?.schedule;
    // A controlled schedule found with --no-lockdep replays with --no-lockdep.
    const noLd = o.lockdep === false;
    if (odd) lines.push(`    its schedule: ${odd}`, `    replay it: ${replayCommand(r, odd, again, noLd)}`);
    if (r.mode === 'controlled') {
      const what = r.strategy === 'dfs' ? 'schedules explored' : 'runs';
      lines.push('', `${label(r)}: controlled mode, strategy ${r.strategy}, ${r.explored} ${what}`);
      if (r.schedule) {
        lines.push(
          `--- schedule of the first failing run: ${r.schedule}`,
          `    replay it: ${replayCommand(r, r.schedule, again, noLd)}`,
          ...shrinkLines(r, again, noLd),
        );
      }
    }
  }
  // A free campaign's recordings were replayed with its lockdep switch: off unless --lockdep.
  for (const r of out.rows) lines.push(...recordLines(r, commandOf(r), o.lockdep !== true));
  if (out.lockStat) lines.push('', out.lockStat);
  for (const t of out.traces ?? []) {
    const what = t.failed
      ? `failing run ${t.run}: ${t.summary}`
      : `run ${t.run} (no run failed: the last one)`;
    lines.push(
      '',
      `--- trace of ${t.id} ${t.variant}, ${what}: ${t.file} (${t.events} events; open in ui.perfetto.dev)`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The matrix's first line: how many eras, runs per era (and why fewer), seed and mode. */
function matrixHeading(out: ReproOutcome, m: MatrixInfo, o: ReproOptions): string {
  const mode =
    out.rows[0]?.mode === 'controlled'
      ? `controlled mode (${out.rows[0]!.strategy})`
      : `free mode${o.jitter === false ? ', jitter off' : ''}`;
  const lowered = m.lowered
    ? ` (lowered from ${DEFAULT_RUNS} to keep each scenario's matrix within ${MATRIX_RUN_BUDGET} runs; --runs N to choose)`
    : '';
  return `era matrix: ${plural(m.eras.length, 'era')}, ${plural(m.runsPerEra, 'run')} per era${lowered}, seed ${o.seed ?? 1}, ${mode}\n`;
}

export function builtinEntries(): readonly CatalogueEntry[] {
  return BUILTIN;
}
