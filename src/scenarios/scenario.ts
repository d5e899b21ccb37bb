// What a scenario is: a real bug report turned into CPUs' programs, a setup, variants with
// expected verdicts and final checks. Built-in scenarios and users' scenario files share this shape.
import type { JitterConfig } from '../cpu/jitter.js';

export type Verdict = 'reproduces' | 'clean';

export interface Variant {
  /** What users pass to --variant. */
  readonly name: string;
  /** Era profile the variant runs (src/eras). */
  readonly era: string;
  readonly expected: Verdict;
  readonly note?: string;
}

/** The scenario's named pointers (tasks, mms...), set by `setup` and read by every CPU. */
export type Globals = Record<string, number>;

export interface ScenarioCpu {
  /** What this CPU plays, for reports ("oom_reaper", "victim exit"). */
  readonly name: string;
  /** The global naming the task that runs as `current` on this CPU. */
  readonly task: string;
  /** A kernel thread: told to stop (kthread_stop) once every other CPU is done. */
  readonly kthread?: boolean;
  run(g: Globals): void;
}

export interface CheckContext {
  /** This run's kernel log, one line per record. */
  readonly dmesg: readonly string[];
  readonly globals: Globals;
}

export interface FinalCheck {
  readonly name: string;
  /** null when the check holds, else what is wrong. */
  check(ctx: CheckContext): string | null;
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** Kernel commits, LKML threads, files. */
  readonly refs: readonly string[];
  readonly description: string;
  readonly variants: readonly Variant[];
  readonly globals: readonly string[];
  readonly cpus: readonly ScenarioCpu[];
  /** Main thread, on a freshly reset kernel with the variant's era applied. */
  setup(g: Globals, variant: Variant): void;
  readonly checks: readonly FinalCheck[];
  readonly jitter: JitterConfig;
  /** Emulated time runs this much faster than wall time (long kernel sleeps). Default 1. */
  readonly timeScale?: number;
}

export function defineScenario(s: Scenario): Scenario {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(s.id))
    throw new Error(`scenario id '${s.id}' must be lower-case words joined by '-'`);
  if (s.cpus.length === 0) throw new Error(`scenario ${s.id} has no CPUs`);
  for (const c of s.cpus) {
    if (!s.globals.includes(c.task))
      throw new Error(`scenario ${s.id}: CPU '${c.name}' runs unknown task '${c.task}'`);
  }
  if (s.variants.length === 0) throw new Error(`scenario ${s.id} has no variants`);
  return s;
}
