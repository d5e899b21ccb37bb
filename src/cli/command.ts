// The mmrace command: its subcommands, options and exit codes (see main.ts and the bundle's cli.js).
import { Command, CommanderError, Option } from 'commander';
import { MAX_CPUS } from '../cpu/control.js';
import { STRATEGY_NAMES } from '../cpu/strategies/index.js';
import { sourceMappedStack } from '../kernel/stack_frames.js';
import { shutdownMachine } from '../scenarios/campaign.js';
import { findScenario, loadScenarioFile, soakEntries } from '../scenarios/catalogue.js';
import {
  intIn,
  parseMachines,
  parseRuns,
  parseSeed,
  parseShard,
  suggestSimilar,
  UsageError,
} from './args.js';
import { badInput } from './bad_input.js';
import { benchCommand } from './bench.js';
import { catalogueCommand } from './catalogue_command.js';
import { parseEras } from './era_matrix.js';
import { erasCommand } from './eras_command.js';
import { explainCommand } from './explain.js';
import type { CampaignTarget } from './machine_host.js';
import { MachineCrashError } from './machine_process.js';
import { runCampaign } from './machines.js';
import { mergeCommand } from './merge.js';
import { exitingOnPurpose, guardStdout } from './output.js';
import { builtinEntries, printOutcome, type ReproOptions } from './repro.js';
import { tortureCommand } from './torture.js';

const color = process.stdout.isTTY === true && !process.env.NO_COLOR;

/** Commander's messages as mmrace's: one line, the `mmrace:` prefix, its "Did you mean" hint kept. */
function oneLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return `${lines.join(' ').replace(/^error: /, 'mmrace: ')}\n`;
}

function runFlags(cmd: Command): Command {
  return cmd
    .option(
      '--variant <names>',
      'run only this variant (an era or patch), or these (a,b,c); with --eras, the one run on every era',
    )
    .option(
      '--eras <list>',
      "the era matrix: run the scenario on each era ('all', or names: v4.14,v4.15; see `mmrace eras`), " +
        'each graded against the eras where the scenario expects a failure',
      (v: string) => parseEras(v),
    )
    .option('--runs <n>', 'runs per variant', parseRuns)
    .option('--seed <s>', 'campaign seed; run r uses seed + r', parseSeed)
    .option(
      '--shard <i/n>',
      'run shard i of n of the campaign (its block of runs, seeds kept; dfs: its subtrees); combine with `mmrace merge`',
      parseShard,
    )
    .option(
      '--machines <n>',
      'run the campaign on n emulated machines at once on this host (each a process with its own ' +
        'arena and CPU threads, taking shards, merged); same verdicts and hits for every n; at most one per core',
      parseMachines,
    )
    .option(
      '--cpus <n>',
      `CPUs of the machine (at least the scenario's, at most ${MAX_CPUS})`,
      intIn(1, MAX_CPUS),
    )
    .option('--json', 'print the verdicts as JSON')
    .addOption(new Option('--dmesg', 'print the kernel log of the first hit').default(undefined))
    .option(
      '--lockdep',
      'run with lockdep: the default in controlled mode (runs about 0.75-1.0x as fast with it there); ' +
        'free mode keeps it off unless given (free runs about 0.65-0.77x as fast with it)',
    )
    .option('--no-lockdep', 'run without lockdep, also in controlled mode')
    .option('--lock-stat', 'collect lock_stat and print /proc/lock_stat after the runs')
    .option(
      '--record',
      "free mode: record the order of the CPUs' points and replay failing runs in controlled mode",
    )
    .option('--record-max <n>', '--record: failing runs to replay (default 20)', intIn(1, 100_000))
    .addOption(
      new Option('--mode <mode>', 'free: all CPUs at once (default); controlled: one at a time').choices([
        'free',
        'controlled',
      ]),
    )
    .addOption(
      new Option(
        '--strategy <name>',
        'controlled mode: who runs at every point (implies --mode controlled)',
      ).choices(STRATEGY_NAMES),
    )
    .option('--depth <d>', 'pct: bug depth (default 2)', intIn(1, 1000))
    .option('--preemptions <k>', 'dfs: preemption bound (default 2)', intIn(0, 1000))
    .option('--replay <schedule>', 'replay a schedule string (implies --mode controlled --strategy replay)')
    .addOption(
      new Option(
        '--on-divergence <what>',
        'replay: when the run leaves the schedule, stop and report it (default), go on with seeded ' +
          'random picks, or go on without preempting',
      ).choices(['stop', 'random', 'continue']),
    )
    .addOption(
      new Option(
        '--points <granularity>',
        'controlled mode: where CPUs may switch: coarse (lock operations and kernel preemption points, ' +
          'the default) or atomic (also every shared access inside the lock primitives, as loom does)',
      ).choices(['coarse', 'atomic']),
    )
    .option(
      '--shrink',
      'controlled mode: shrink the first failing schedule (fewer switches, then fewer decisions)',
    )
    .option(
      '--no-jitter',
      "free mode: leave out the scenario's jitter (its delays in the race windows): the host's own " +
        'interleavings, the baseline the catalogue measures PCT against',
    )
    .option(
      '--stop-on-hit',
      "end each variant's campaign at its first failing run (a hit or a failed final check): the quickest way to a failing seed or schedule",
    )
    .option(
      '--trace <file>',
      'write a Chrome trace (Perfetto) of the first failing run, else the last run; with several ' +
        'variants, one file each: the variant name goes before the extension (out.v4.14.json)',
    );
}

async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command('mmrace')
    .description(
      "The Linux kernel's mm concurrency on real threads: replay historical mm races and their fixes.\n" +
        'With no command: every built-in scenario against every era (the era matrix, as --eras all).',
    )
    .version('0.1.0')
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    .exitOverride()
    .allowExcessArguments(true)
    .helpCommand('help [command]', 'show the help of mmrace or of one command')
    .configureOutput({ outputError: (s, write) => write(oneLine(s)) });

  // No command: every built-in scenario's era matrix, across every era unless --eras says otherwise.
  runFlags(program).action(async (o: ReproOptions) => {
    if (program.args.length > 0) throw unknownCommand(program, program.args[0]!);
    const out = await runCampaign({ kind: 'builtin' }, builtinEntries(), {
      ...o,
      eras: o.eras ?? parseEras('all'),
    });
    printOutcome(out, o, color);
    code = out.code;
  });

  program
    .command('list')
    .description('list the scenarios and their variants')
    .option('--json', 'print as JSON')
    .action((o: { json?: boolean }) => {
      // Every scenario `repro` finds; `inDefaultRun`: part of `mmrace` with no command.
      const entries = [...builtinEntries(), ...soakEntries()];
      const list = entries.map(({ scenario: s }) => ({
        id: s.id,
        inDefaultRun: builtinEntries().some((e) => e.scenario.id === s.id),
        title: s.title,
        cpus: s.cpus.map((c) => c.name),
        variants: s.variants.map((v) => ({ name: v.name, era: v.era, expected: v.expected })),
        expectFailIn: s.expectFailIn ?? null,
        symptoms: s.symptoms ?? null,
        refs: s.refs,
      }));
      if (o.json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      else {
        for (const s of list) {
          const where = s.inDefaultRun ? '' : ' (run it with `mmrace repro`; not in the default run)';
          process.stdout.write(`${s.id}${where}\n  ${s.title}\n  CPUs: ${s.cpus.join(', ')}\n`);
          process.stdout.write(
            `  variants: ${s.variants.map((v) => `${v.name} (${v.expected})`).join(', ')}\n`,
          );
          if (s.expectFailIn)
            process.stdout.write(
              `  expected to fail in: ${s.expectFailIn.join(', ') || 'no era'} (every other era: clean)\n`,
            );
          if (s.symptoms) {
            const also = s.symptoms.acceptable?.length
              ? `; also acceptable: ${s.symptoms.acceptable.join(' | ')}`
              : '';
            process.stdout.write(`  symptoms: ${s.symptoms.expected.join(' | ')}${also}\n`);
          }
        }
      }
    });

  runFlags(program.command('repro').argument('<id>', 'scenario id (see `mmrace list`)'))
    .description('run one scenario: every variant, --variant, or one row per era with --eras')
    .action(async (id: string, o: ReproOptions) => {
      const e = findScenario(id);
      if (!e) throw new UsageError(`unknown scenario '${id}' (see 'mmrace list')`);
      const out = await runCampaign({ kind: 'scenario', id }, [e], o);
      printOutcome(out, o, color);
      code = out.code;
    });

  runFlags(
    program
      .command('run')
      .argument('<file>', 'a scenario file (.js/.mjs/.cjs/.ts/.mts/.cts) exporting `scenario`'),
  )
    .description('run a scenario file of your own, the same way as the built-in ones')
    .action(async (file: string, o: ReproOptions) => {
      const e = await loadScenarioFile(file);
      const out = await runCampaign({ kind: 'file', path: file }, [e], o);
      printOutcome(out, o, color, `mmrace run ${shellQuote(file)}`);
      code = out.code;
    });

  runFlags(
    program
      .command('replay')
      .argument('<id>', 'scenario id (see `mmrace list`) or a scenario file')
      .argument('<schedule>', 'a schedule string printed by a controlled run'),
  )
    .description('replay a schedule string on one scenario (a shortcut for repro <id> --replay <schedule>)')
    .action(async (id: string, schedule: string, o: ReproOptions) => {
      // A scenario file's schedule replays the same way: `mmrace replay ./my-race.mjs '<schedule>'`.
      const file = /\.[cm]?[jt]s$/.test(id);
      const e = file ? await loadScenarioFile(id) : findScenario(id);
      if (!e) throw new UsageError(`unknown scenario '${id}' (see 'mmrace list')`);
      if (o.replay !== undefined && o.replay !== schedule) throw new UsageError('give the schedule once');
      const target: CampaignTarget = file ? { kind: 'file', path: id } : { kind: 'scenario', id };
      const out = await runCampaign(target, [e], { ...o, replay: schedule });
      printOutcome(out, { ...o, replay: schedule }, color, file ? `mmrace run ${shellQuote(id)}` : undefined);
      code = out.code;
    });

  erasCommand(program);

  mergeCommand(program, color, (c) => {
    code = c;
  });

  tortureCommand(program, (c) => {
    code = c;
  });

  explainCommand(program, (c) => {
    code = c;
  });

  catalogueCommand(program, (c) => {
    code = c;
  });

  await benchCommand(program, (c) => {
    code = c;
  });

  // The root takes excess words to name an unknown command; a command refuses words it does not
  // declare (`mmrace catalogue foo` ran the whole catalogue).
  for (const c of program.commands) c.allowExcessArguments(false);

  try {
    if (argv[0] === 'help' && argv[1] !== undefined && !program.commands.some((c) => c.name() === argv[1]))
      throw unknownCommand(program, argv[1]);
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0
        ? 0
        : 2;
    }
    if (e instanceof MachineCrashError) {
      // As a CPU's crash: exit 3, the machine named, its report below.
      process.stderr.write(`mmrace: ${e.message}\n`);
      return 3;
    }
    const bad = badInput(e);
    if (bad === null) throw e;
    process.stderr.write(`mmrace: ${bad}\n`);
    return 2;
  }
  return code;
}

function unknownCommand(program: Command, word: string): UsageError {
  const names = program.commands.map((c) => c.name());
  const hint = suggestSimilar(word, names);
  return new UsageError(
    `unknown command '${word}'${hint ? ` (Did you mean ${hint}?)` : ''}; commands: ${names.join(', ')}`,
  );
}

function shellQuote(s: string): string {
  return /^[\w./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** The mmrace command on this process's arguments; its exit code is set when it returns. */
export async function cliMain(): Promise<void> {
  // The user's outer frames (setup, final checks) must survive to be reported.
  Error.stackTraceLimit = 64;
  guardStdout();
  // The event loop must never empty before the command has said why it ends (a worker gone
  // without a word once left nothing but an unsettled await: exit 13, no output).
  const keepAlive = setInterval(() => {}, 1 << 30);
  let finished = false;
  process.on('exit', (c) => {
    if (!finished && !exitingOnPurpose())
      process.stderr.write(`mmrace: internal error: the command ended unfinished (exit ${c})\n`);
  });
  const code = await main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`mmrace: internal error: ${sourceMappedStack((e as Error)?.stack ?? String(e))}\n`);
    return 3;
  });
  await shutdownMachine();
  finished = true;
  clearInterval(keepAlive);
  process.exitCode = code;
}
