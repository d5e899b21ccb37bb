// `mmrace torture`: locktorture on the emulated machine (src/experiments/locktorture.ts).
import { availableParallelism } from 'node:os';
import { type Command, Option } from 'commander';
import { MAX_CPUS } from '../cpu/control.js';
import { ERAS } from '../eras/index.js';
import {
  DEFAULT_TORTURE_ERA,
  LockTortureInitError,
  lock_torture_init,
  lock_torture_run,
  torture_ops,
} from '../experiments/locktorture.js';
import { sharedMachine } from '../scenarios/campaign.js';
import { intIn, UsageError } from './args.js';

export interface TortureOptions {
  type: string;
  era: string;
  nwriters?: number;
  nreaders?: number;
  duration: number;
  statInterval: number;
  longHold?: number;
  spinOnOwner?: boolean;
  json?: boolean;
}

export const MAX_DURATION_S = 3600;
/** locktorture's long_hold default, used by a bare --long-hold. */
export const LONG_HOLD_MS = 100;

/** 0 SUCCESS, 1 FAILURE (an invariant broke), 3 a CPU crashed or the threads did not stop. */
export async function runTorture(o: TortureOptions): Promise<number> {
  let config: ReturnType<typeof lock_torture_init>;
  try {
    config = lock_torture_init(
      {
        torture_type: o.type,
        era: o.era,
        nwriters_stress: o.nwriters ?? -1,
        nreaders_stress: o.nreaders ?? -1,
        long_hold: o.longHold ?? 0,
        stat_interval: o.statInterval,
        duration: o.duration,
        ...(o.spinOnOwner ? { spin_on_owner: true } : {}),
      },
      availableParallelism(),
    );
  } catch (e) {
    if (e instanceof LockTortureInitError) throw new UsageError(e.message);
    throw e;
  }
  const emit = o.json ? undefined : (line: string) => process.stdout.write(`${line}\n`);
  const r = await lock_torture_run(sharedMachine(), config, emit);
  if (o.json) {
    const { lines, ...rest } = r;
    process.stdout.write(
      `${JSON.stringify({ ok: r.result === 'SUCCESS', ...rest, acquisitions: r.writes.total + (r.reads?.total ?? 0), log: lines }, null, 2)}\n`,
    );
  } else if (r.error) process.stdout.write(`mmrace: ${r.error}\n`);
  return r.result === 'SUCCESS' ? 0 : r.result === 'FAILURE' ? 1 : 3;
}

export function tortureCommand(program: Command, done: (code: number) => void): Command {
  return program
    .command('torture')
    .description(
      "locktorture: writer and reader CPUs hammer one lock, checking exclusion; prints the kernel's statistics lines",
    )
    .option('--type <name>', 'lock type (torture_type)', 'spin_lock')
    .option('--era <name>', 'the kernel whose locks run (its rw_semaphore, ...)', DEFAULT_TORTURE_ERA)
    .addHelpText(
      'after',
      `\nTypes: ${torture_ops.map((t) => t.name).join(', ')}\nEras: ${ERAS.map((e) => `${e.name} (${e.rwsem.name})`).join(', ')}`,
    )
    .option(
      '--nwriters <n>',
      'writer threads (default: 2 × host cores, or host cores with readers)',
      intIn(0, MAX_CPUS),
    )
    .option(
      '--nreaders <n>',
      'reader threads, for types with a read side (default: as many as writers)',
      intIn(0, MAX_CPUS),
    )
    .addOption(new Option('--duration <s>', 'seconds to run').default(10).argParser(intIn(1, MAX_DURATION_S)))
    .addOption(
      new Option('--stat-interval <s>', 'seconds between statistics printouts, 0 = only at the end')
        .default(60)
        .argParser(intIn(0, MAX_DURATION_S)),
    )
    .addOption(
      new Option(
        '--long-hold [ms]',
        `occasional long holds of the lock (locktorture's long_hold; ${LONG_HOLD_MS} ms if no value)`,
      )
        .preset(String(LONG_HOLD_MS))
        .argParser(intIn(1, 10_000)),
    )
    .option(
      '--spin-on-owner',
      'CONFIG_RWSEM_SPIN_ON_OWNER=y: writers spin on a running owner, queued on the OSQ (x86 default; off here)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (o: TortureOptions) => {
      done(await runTorture(o));
    });
}
