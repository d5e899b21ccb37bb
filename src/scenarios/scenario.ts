// What a scenario is: a real bug report turned into CPUs' programs, a setup, variants with
// expected verdicts and final checks. Built-in scenarios and users' scenario files share this shape.
import type { JitterConfig } from '../cpu/jitter.js';
import type { KernelConfig } from '../eras/config.js';
import { type ScenarioInput, validateScenario, withDefaults } from './scenario_schema.js';

export { ScenarioError, type ScenarioInput } from './scenario_schema.js';

export type Verdict = 'reproduces' | 'clean';

/**
 * How the bug shows, jcstress-style: `expected` are the outcomes LKML reported, `acceptable` other
 * outcomes of the same bug. A pattern is a detector line's text ('KASAN: use-after-free in
 * zap_pte_range', 'Bad rss-counter state') or a failed final check ("final check 'every page
 * freed'"); it matches a run whose report contains it once both are normalized (failure.ts).
 */
export interface Symptoms {
  readonly expected: readonly string[];
  readonly acceptable?: readonly string[];
}

export interface Variant {
  /** What users pass to --variant. */
  readonly name: string;
  /** Era profile the variant runs (src/eras). */
  readonly era: string;
  readonly expected: Verdict;
  readonly note?: string;
  /**
   * PCT finds this variant's race only about once in this many runs: a catalogue pass runs PCT
   * at least this long on it (grading and runs to the first hit), so that its bounded pass can
   * still see it.
   */
  readonly minPctRuns?: number;
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
  /**
   * The eras (src/eras names, `mmrace eras`) where the scenario's program is expected to fail;
   * every other era is expected clean. The era matrix (`--eras`) grades each era by it. Left out,
   * only the variants' own (name, era) pairs expect a failure. A variant named after its era
   * (`{ name: 'v4.14', era: 'v4.14' }`) must agree with it.
   */
  readonly expectFailIn?: readonly string[];
  /**
   * The .config options every era runs this scenario with (its variants and its era matrix), on
   * top of the era's own, because its failure needs them; an era name may still turn one the other
   * way ('v4.15+PPC_BOOK3S_64=n'), and is then expected clean whatever expectFailIn says.
   */
  readonly config?: Partial<KernelConfig>;
  /**
   * Left out, any failing run counts as the bug. Given, a run counts only when it shows an expected
   * symptom; one failing in no listed way is `unexpected` and fails the verdict.
   */
  readonly symptoms?: Symptoms;
  readonly globals: readonly string[];
  readonly cpus: readonly ScenarioCpu[];
  /** Main thread, on a freshly reset kernel with the variant's era applied. */
  setup(g: Globals, variant: Variant): void;
  /**
   * setup builds the same arena every time for a variant (it keeps no state of its own and draws
   * no random numbers): it runs once and each run restores its arena (run_setup.ts). Left out,
   * setup runs before every run.
   */
  readonly setupOnce?: boolean;
  readonly checks: readonly FinalCheck[];
  readonly jitter: JitterConfig;
  /**
   * Traced function levels `mmrace explain` draws per CPU (default 4): more when a racing step is
   * deep in a call chain (exit_mmap under do_exit). `--depth` overrides it.
   */
  readonly diagramDepth?: number;
  /** Emulated time runs this much faster than wall time (long kernel sleeps). Default 1. */
  readonly timeScale?: number;
}

/**
 * What scenario files call: checks the scenario field by field (a ScenarioError names the first
 * field that is wrong, on one line) and returns it with its defaults filled in (no checks, no
 * jitter). The loader checks again, so a plain object exported as `scenario` is held to the same.
 */
export function defineScenario(s: ScenarioInput): Scenario {
  return validateScenario(s);
}

/**
 * What the built-in scenarios call: defaults filled in, not checked at start-up. zod costs about
 * 0.1 s of every process that loads the catalogue (each CLI command); test/builtin_schema.test.ts
 * holds every built-in scenario to the schema that defineScenario() applies to users' files.
 */
export function defineBuiltinScenario(s: ScenarioInput): Scenario {
  return withDefaults(s);
}
