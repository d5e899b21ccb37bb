// One sample of a bench experiment: a campaign of one free-mode run, no jitter, whose CPUs run the
// experiment file's prepareCpu until the main thread stops the run after the sample's duration.
// A crash or a run that would not stop is the experiment's error, named.
import { crashLine } from '../../cpu/crash.js';
import { NO_JITTER } from '../../cpu/jitter.js';
import type { Machine } from '../../cpu/machine.js';
import { type EraProfile, eraByName } from '../../eras/index.js';

export interface SampleSpec {
  /** The experiment's name, for errors. */
  name: string;
  /** The experiment file's URL (import.meta.url): its prepareCpu runs on the CPUs. */
  entry: string;
  entryArgs: unknown;
  ncpus: number;
  durationMs: number;
  /** CPUs that run kernel threads (stopped by stopKthreads). */
  kthreadCpus?: number[];
  /** Names of the CPUs in reports (a crash's CPU line). */
  cpuNames?: string[];
}

export async function runSample(
  machine: Machine,
  s: SampleSpec,
  hooks: { setup(): void; stopKthreads?(): void },
): Promise<void> {
  const r = await machine.campaign(
    {
      entry: s.entry,
      entryArgs: s.entryArgs,
      ncpus: s.ncpus,
      runs: 1,
      seed: 1,
      jitter: NO_JITTER,
      timeScale: 1,
      // A CPU starved for the whole sample (a writer behind readers) still ends once the others stop.
      runTimeoutMs: s.durationMs + 30_000,
      kthreadCpus: s.kthreadCpus ?? [],
      tickMs: Math.max(5, Math.min(50, Math.round(s.durationMs / 10))),
      ...(s.cpuNames ? { cpuNames: s.cpuNames } : {}),
    },
    {
      setup: hooks.setup,
      stopKthreads: hooks.stopKthreads ?? (() => {}),
      tick: (_run, elapsedMs) => elapsedMs >= s.durationMs,
      finish: () => true,
    },
  );
  machine.attach();
  if (r.crash) throw new Error(`bench ${s.name}: ${crashLine(r.crash)}`);
  if (r.timedOut) throw new Error(`bench ${s.name}: the CPUs did not stop within ${r.timedOut.wallMs} ms`);
}

/** The era an experiment's options named (validated on the command line: a miss is a bug here). */
export function eraNamed(experiment: string, name: string): EraProfile {
  const e = eraByName(name);
  if (!e) throw new Error(`bench ${experiment}: unknown era '${name}'`);
  return e;
}
