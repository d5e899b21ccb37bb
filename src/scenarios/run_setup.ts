// A run's initial state: the scenario's setup before every run, or, for a scenario that declares
// its setup depends on the variant only (`setupOnce`), one setup whose arena words are restored
// from a snapshot before each run.
import { emulatedNow, timeScale, wallNow } from '../cpu/clock.js';
import { cpuCtx } from '../cpu/context.js';
import { setBootEpoch } from '../cpu/control.js';
import { BootRunner } from '../cpu/free.js';
import { applyEra, type EraProfile } from '../eras/index.js';
import { LOCK_STAT, lockDebugFlags } from '../kernel/locking/lockdep_state.js';
import { mem } from '../shm/arena.js';
import { ArenaSnapshot } from '../shm/arena_snapshot.js';
import { cleanRunState, kernelReset, runStateRanges, writeGlobals } from './kernel_image.js';
import type { Globals, Scenario, Variant } from './scenario.js';
import { callScenarioCode, ScenarioCodeError } from './user_code.js';

export interface RunSetup {
  /** 'snapshot' when runs restore one setup's arena, 'per-run' when each run redoes setup. */
  readonly kind: 'snapshot' | 'per-run';
  /** Snapshot: the emulated time (ms) setup ran at, and each run starts at. */
  readonly clockMs?: number;
  /** Main thread, before run `run`: the arena as the run starts, and the run's globals. */
  beforeRun(run: number): Globals;
}

/** The run's initial state: a fresh kernel of the variant's era, then the scenario's setup. */
export function setupRun(s: Scenario, variant: Variant, era: EraProfile, run?: number): Globals {
  kernelReset();
  applyEra(era);
  const globals: Globals = {};
  callScenarioCode(where(s, variant, run), () => s.setup(globals, variant));
  cpuCtx.current = 0;
  writeGlobals(s.globals, globals);
  return globals;
}

function where(s: Scenario, variant: Variant, run?: number): string {
  return `scenario ${s.id} (variant ${variant.name}): setup${run === undefined ? '' : ` of run ${run}`}`;
}

/**
 * Runs setup once now (its errors surface before any CPU runs) and returns how each run gets its
 * state. MMRACE_SNAPSHOT=0 or `snapshot: false` keeps per-run setup; so does lock_stat, whose
 * counters would miss setup's acquisitions after the first run.
 */
export function prepareRunSetup(
  s: Scenario,
  variant: Variant,
  era: EraProfile,
  snapshot = process.env.MMRACE_SNAPSHOT !== '0',
): RunSetup {
  if (!snapshot || !s.setupOnce || lockDebugFlags() & LOCK_STAT) {
    setupRun(s, variant, era);
    return { kind: 'per-run', beforeRun: (run) => setupRun(s, variant, era, run) };
  }
  return snapshotSetup(s, variant, era);
}

function snapshotSetup(s: Scenario, variant: Variant, era: EraProfile): RunSetup {
  // Setup's printk stamps and timers read the clock: it stands still while setup runs, and each
  // run starts at that time again, as if it had just run.
  const at = emulatedNow();
  const first = takeSnapshot(s, variant, era, at);
  // A setup that is not a function of its variant (module state, Math.random) builds another arena.
  const diff = firstDifference(first.snap, takeSnapshot(s, variant, era, at).snap);
  if (diff !== null) throw new ScenarioCodeError(where(s, variant), new Error(notRepeatable(diff)));
  return {
    kind: 'snapshot',
    clockMs: at,
    beforeRun() {
      first.snap.restore();
      setBootEpoch(wallNow() - at / timeScale());
      applyEra(era);
      cpuCtx.current = 0;
      return { ...first.globals };
    },
  };
}

/** The boot CPU with its clock stopped at `at` (a setup that sleeps with a timeout never wakes). */
class StoppedClock extends BootRunner {
  constructor(private readonly at: number) {
    super();
  }
  override now(): number {
    return this.at;
  }
}

/** Setup on a clean run state with the clock stopped at `at`, and a copy of every word it built. */
export function takeSnapshot(
  s: Scenario,
  variant: Variant,
  era: EraProfile,
  at: number,
): { snap: ArenaSnapshot; globals: Globals } {
  cleanRunState();
  const runner = cpuCtx.runner;
  cpuCtx.runner = new StoppedClock(at);
  try {
    const globals = setupRun(s, variant, era);
    return { snap: new ArenaSnapshot(runStateRanges()), globals };
  } finally {
    cpuCtx.runner = runner;
  }
}

/** The first word address where two snapshots differ, or null when they are the same. */
export function firstDifference(a: ArenaSnapshot, b: ArenaSnapshot): number | null {
  if (sameWords(a, b)) return null;
  let at = 0;
  for (const [i, r] of a.ranges.entries()) {
    const o = b.ranges[i];
    if (!o) return r.start;
    // Different ranges (a longer log): the first word one holds and the other does not.
    if (o.start !== r.start) return Math.min(r.start, o.start);
    if (o.end !== r.end) return Math.min(r.end, o.end);
    for (let w = r.start; w < r.end; w++, at++) if (a.words[at] !== b.words[at]) return w;
  }
  return b.ranges[a.ranges.length]?.start ?? null;
}

/** One memcmp: the word-by-word walk only runs to name a difference. */
function sameWords(a: ArenaSnapshot, b: ArenaSnapshot): boolean {
  const bytes = (s: ArenaSnapshot) => Buffer.from(s.words.buffer, s.words.byteOffset, s.words.byteLength);
  return (
    a.ranges.length === b.ranges.length &&
    a.ranges.every((r, i) => r.start === b.ranges[i]!.start && r.end === b.ranges[i]!.end) &&
    bytes(a).equals(bytes(b))
  );
}

function notRepeatable(addr: number): string {
  const region = mem.arena.regions[mem.arena.regionOf(addr)]?.name ?? 'none';
  return (
    `it declares setupOnce, but a second setup built another arena (word ${addr}, region ${region}): ` +
    'setup must depend on its variant only (no state kept in the module, no randomness); remove setupOnce'
  );
}
