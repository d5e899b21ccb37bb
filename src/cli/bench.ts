// `mmrace bench <experiment>`: the contention experiments of src/experiments/bench/ (see
// src/experiments/experiment.ts for the interface and how one plugs in). This file knows no
// experiment by name: it lists what the registry found, adds each experiment's own flags, runs the
// chosen one on the shared machine with a progress bar, prints its tables and writes the reports.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { MAX_CPUS } from '../cpu/control.js';
import {
  type Experiment,
  type ExperimentContext,
  ExperimentInputError,
  type ExperimentOption,
} from '../experiments/experiment.js';
import { loadExperiments } from '../experiments/registry.js';
import { type BenchRun, jsonReport, terminalReport, writeBenchFiles } from '../report/bench_report.js';
import { machineInfo } from '../report/machine_info.js';
import { sharedMachine } from '../scenarios/campaign.js';
import { intIn, suggestSimilar, UsageError } from './args.js';
import { stepBar, wantsStepProgress } from './progress.js';

export const MAX_BENCH_DURATION_MS = 600_000;

interface BenchFlags {
  cpus?: number[];
  duration?: number;
  rounds?: number;
  json?: boolean;
  out?: string;
  lockStat?: boolean;
  [experimentOption: string]: unknown;
}

/** `--cpus 1,2,4`: CPU counts in 1..MAX_CPUS, each once, ascending. */
export function parseCpuList(v: string): number[] {
  const items = v.split(',').map((s) => s.trim());
  const out: number[] = [];
  for (const it of items) {
    const n = Number(it);
    if (!/^\d+$/.test(it) || n < 1 || n > MAX_CPUS)
      throw new InvalidArgumentError(`expected CPU counts in 1..${MAX_CPUS}, comma-separated (e.g. 1,2,4)`);
    if (out.includes(n)) throw new InvalidArgumentError(`${n} is repeated`);
    out.push(n);
  }
  return out.sort((a, b) => a - b);
}

/** The attribute commander stores a flag under ('--lock-stat' -> lockStat). */
const keyOf = (flags: string) => new Option(flags).attributeName();

function listText(experiments: readonly Experiment[]): string {
  const w = Math.max(...experiments.map((e) => e.name.length));
  return experiments.map((e) => `  ${e.name.padEnd(w)}  ${e.description}`).join('\n');
}

/** The experiment's options from the flags: given ones parsed, the others from their defaults. */
function experimentOptions(
  e: Experiment,
  o: BenchFlags,
  all: Map<string, string[]>,
): Record<string, unknown> {
  const mine = new Set(e.options.map((x) => keyOf(x.flags)));
  for (const [key, owners] of all)
    if (o[key] !== undefined && !mine.has(key))
      throw new UsageError(
        `--${flagName(key)} is not an option of '${e.name}' (it is ${owners.join(', ')}'s)`,
      );
  const out: Record<string, unknown> = {};
  for (const x of e.options) {
    const key = keyOf(x.flags);
    const raw = (o[key] as string | undefined) ?? x.default;
    try {
      out[key] = raw === undefined ? undefined : x.parse ? x.parse(raw) : raw;
    } catch (err) {
      if (err instanceof ExperimentInputError) throw new UsageError(err.message);
      throw err;
    }
  }
  return out;
}

const flagName = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function checkOutDir(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`--out ${dir}: not a directory`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UsageError(`--out ${dir}: ${(e as Error).message.split('\n')[0]}`);
  }
}

export async function runBench(e: Experiment, o: BenchFlags, all: Map<string, string[]>): Promise<number> {
  const options = experimentOptions(e, o, all);
  const cpus = o.cpus ?? e.defaults.cpus;
  const durationMs = o.duration ?? e.defaults.durationMs;
  const rounds = o.rounds ?? e.defaults.rounds;
  if (o.out !== undefined) checkOutDir(o.out);
  const hostCores = availableParallelism();
  const bar = wantsStepProgress(o.json) ? stepBar(`bench ${e.name}`) : null;
  const ctx: ExperimentContext = {
    machine: sharedMachine(),
    cpus,
    durationMs,
    rounds,
    lockStat: o.lockStat === true,
    hostCores,
    options,
    progress: (done, total, label) => bar?.update(done, total, label),
  };
  const t0 = performance.now();
  let output: Awaited<ReturnType<Experiment['run']>>;
  try {
    output = await e.run(ctx);
  } catch (err) {
    if (err instanceof ExperimentInputError) throw new UsageError(err.message);
    throw err;
  } finally {
    bar?.stop();
  }
  const run: BenchRun = {
    experiment: e.name,
    description: e.description,
    options: { cpus, durationMs, rounds, lockStat: ctx.lockStat, ...options },
    machine: machineInfo(),
    wallMs: performance.now() - t0,
    output,
  };
  if (o.json) process.stdout.write(`${JSON.stringify(jsonReport(run), null, 2)}\n`);
  else process.stdout.write(terminalReport(run));
  if (o.out !== undefined) {
    const files = await writeBenchFiles(o.out, run);
    const index = files.find((f) => f.endsWith('index.html'));
    (o.json ? process.stderr : process.stdout).write(
      `wrote ${files.length} files to ${o.out}: open ${index}\n`,
    );
  }
  return 0;
}

export async function benchCommand(program: Command, done: (code: number) => void): Promise<Command> {
  const experiments = await loadExperiments();
  const names = experiments.map((e) => e.name);
  const cmd = program
    .command('bench')
    .argument('[experiment]', `the experiment to run: ${names.join(', ')}`)
    .description('contention experiments on the real primitives, beside the published figures')
    .option('--cpus <list>', `CPU counts to run, e.g. 1,2,4 (at most ${MAX_CPUS})`, parseCpuList)
    .option('--duration <ms>', 'ms each sample runs', intIn(10, MAX_BENCH_DURATION_MS))
    .option('--rounds <n>', 'rounds (every sample again; tables show medians)', intIn(1, 1000))
    .option('--json', 'print every sample, the tables and the machine as JSON')
    .option('--out <dir>', 'write samples.csv, bench.json, one SVG per figure and index.html into dir')
    .option('--lock-stat', "collect lock_stat and print /proc/lock_stat's columns after the runs");
  // Each experiment's own flags, once per flag however many experiments share it; the experiment
  // parses the value (commander keeps the string), so that two may read one flag differently, and
  // the help gives each one's reading.
  const owners = new Map<string, string[]>();
  const byKey = new Map<string, { name: string; x: ExperimentOption }[]>();
  for (const e of experiments)
    for (const x of e.options) {
      const key = keyOf(x.flags);
      owners.set(key, [...(owners.get(key) ?? []), e.name]);
      byKey.set(key, [...(byKey.get(key) ?? []), { name: e.name, x }]);
    }
  for (const readings of byKey.values()) {
    const text = readings.map(
      ({ name, x }) =>
        `[${name}] ${x.description}${x.default !== undefined ? ` (default: ${x.default})` : ''}`,
    );
    cmd.option(readings[0]!.x.flags, text.join('; '));
  }
  const defaults = experiments
    .map(
      (e) =>
        `  ${e.name}: --cpus ${e.defaults.cpus.join(',')} --duration ${e.defaults.durationMs} --rounds ${e.defaults.rounds}`,
    )
    .join('\n');
  cmd.addHelpText(
    'after',
    `\nExperiments:\n${listText(experiments)}\n\nDefaults:\n${defaults}\n\nHost: ${availableParallelism()} cores; runs with more CPUs are marked oversubscribed.`,
  );
  cmd.action(async (name: string | undefined, o: BenchFlags) => {
    if (name === undefined) {
      process.stdout.write(
        `Experiments (mmrace bench <experiment>; --help for the flags):\n${listText(experiments)}\n`,
      );
      done(0);
      return;
    }
    const e = experiments.find((x) => x.name === name);
    if (!e) {
      const hint = suggestSimilar(name, names);
      throw new UsageError(
        `unknown experiment '${name}'${hint ? ` (Did you mean ${hint}?)` : ''}; experiments: ${names.join(', ')}`,
      );
    }
    done(await runBench(e, o, owners));
  });
  return cmd;
}
