// Whether this thread's preemption points have anything to do. A controlled runner schedules at
// every point and a free runner with jitter windows or --record acts on some; a free runner with
// neither only counts them and watches the run's abort word, and the boot runner does nothing.
// For those two the gate is "quiet": point() (context.ts) is a test of a module variable and a
// countdown, and every QUIET_STRIDE points the runner counts them and checks the abort word once,
// so a straight-line lock fast path makes no Atomics call of its own (loops that wait still check
// the abort word on every pass, in relax() and wait()), yet a CPU that runs straight-line code
// forever still stops within QUIET_STRIDE points of an abort.
//
// The decision is made when cpuCtx.runner is assigned (context.ts) and again when the runner's own
// state changes (a run starts, a spin loop starts or ends): no per-point configuration load.
// No imports: free.ts and context.ts both use it, and context.ts imports free.ts.

/** What a runner offers to be gated; a runner without these is never quiet. */
export interface QuietRunner {
  /** Nothing to do at a straight-line point right now but count it and watch for an abort. */
  pointsQuiet(): boolean;
  /** `n` quiet points went by: count them, and throw CpuStop if the run is being aborted. */
  quietPoints(n: number): void;
  /** `n` quiet points went by and the gate passes to another runner: count them, never throw. */
  absorbQuietPoints(n: number): void;
}

/** Points between two abort-word checks while quiet: ~20-50 µs of uncontended lock operations. */
export const QUIET_STRIDE = 256;

let owner: QuietRunner | null = null;
/** Read by point() on every call: true while the gate's runner is quiet. */
export let pointsQuiet = false;
/** Quiet points left before the next check; QUIET_STRIDE - left went by unreported. */
let left = QUIET_STRIDE;

function isQuietRunner(r: object): r is QuietRunner {
  return typeof (r as Partial<QuietRunner>).pointsQuiet === 'function';
}

/**
 * context.ts: `r` became this thread's runner. The quiet points not yet handed to the previous
 * one go to it (cpu_loop publishes a run's count after it has put its runner back).
 */
export function gateRunner(r: object): void {
  const next = isQuietRunner(r) ? r : null;
  if (next !== owner) {
    owner?.absorbQuietPoints(QUIET_STRIDE - left);
    left = QUIET_STRIDE;
    owner = next;
  }
  pointsQuiet = owner?.pointsQuiet() === true;
}

/** A runner whose state changed: re-decide, if it is the gate's runner (a TracingRunner's inner is not). */
export function regate(r: QuietRunner): void {
  if (owner === r) pointsQuiet = r.pointsQuiet();
}

/** Quiet points counted so far and not yet handed to `r` (its `points` adds them). */
export function pendingQuietPoints(r: QuietRunner): number {
  return owner === r ? QUIET_STRIDE - left : 0;
}

/** `r` reset its count (a new run): the pending points belonged to the last one. */
export function clearQuietPoints(r: QuietRunner): void {
  if (owner === r) left = QUIET_STRIDE;
}

/** point() while quiet: a countdown, and the runner's check every QUIET_STRIDE points. */
export function quietPoint(): void {
  // Small, for TurboFan's inlining budget: the rare half is its own function.
  if (--left <= 0) quietTick();
}

function quietTick(): void {
  left = QUIET_STRIDE;
  owner!.quietPoints(QUIET_STRIDE);
}
