// This thread's fast-path gates: whether its preemption points and lock operations have anything
// to do beyond counting and the lock algorithm's own Atomics calls. Both are decided when
// something changes (a runner is assigned, a run starts, a spin loop starts or ends, tracing
// starts or stops, a preempt count moves), never loaded per operation from the arena.
//
// Points. A controlled runner schedules at every point and a free runner with jitter windows or
// --record acts on some; a free runner with neither only counts them and watches the run's abort
// word, and the boot runner does nothing. For those two the gate is "quiet": point() is one test
// and decrement of a module variable, and every QUIET_STRIDE points the runner counts them and
// checks the abort word once, so a straight-line lock fast path makes no Atomics call of its own
// (loops that wait still check the abort word on every pass, in relax() and wait()), yet a CPU
// that runs straight-line code forever still stops within QUIET_STRIDE points of an abort.
//
// Locks. `lockGate` is 0 while a lock operation has nothing to do but its point and its
// algorithm: no --trace on this thread, no preempt-disabled section open on it (so might_sleep()
// cannot fire), and no lock taken on it with lockdep on (so current holds no lock lockdep tracked).
// Spinlocks, which may nest in atomic sections, and releases ignore the preempt nesting; only
// releases care about the tracked locks. lockdep's and lock_stat's switch is lockdep_state.ts's,
// tested beside it.
//
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

/** Whoever hears a point that is not quiet: this thread's runner (cpu/runner.ts). */
interface PointTaker {
  point(id: string): void;
}

/** Points between two abort-word checks while quiet: ~20-50 µs of uncontended lock operations. */
export const QUIET_STRIDE = 256;

let taker: PointTaker = { point: () => {} };
let owner: QuietRunner | null = null;
/** True while the gate's runner is quiet (tests and debugging read it; point() tests `left`). */
export let pointsQuiet = false;
/**
 * While quiet, the points left before the runner's next check plus one: point() takes the plain
 * decrement while it is above 1, so QUIET_STRIDE - left points went by unreported. 0 while loud:
 * every point goes to pointSlow().
 */
// `var`, not `let`, for the hot variables here: V8 checks a module `let` for its TDZ hole on
// every read from a function (a compare and a branch), a `var` never.
var left = 0;
/** While loud: the quiet points not yet handed to `owner` when the gate went loud. */
let heldWhileLoud = 0;

// One test, one decrement: the whole cost of a quiet point (its rare half is its own function,
// for TurboFan's inlining budget).
/**
 * A preemption point: the kernel can be interrupted or preempted here. While the runner has
 * nothing to do at it (free mode without jitter windows or --record, boot), a countdown;
 * otherwise the runner's point().
 */
export function point(id: string): void {
  if (left > 1) left--;
  else pointSlow(id);
}

function pointSlow(id: string): void {
  if (pointsQuiet) {
    // The QUIET_STRIDE-th quiet point: count them all and check the abort word.
    left = QUIET_STRIDE;
    owner!.quietPoints(QUIET_STRIDE);
  } else {
    taker.point(id);
  }
}

function pending(): number {
  return pointsQuiet ? QUIET_STRIDE - left : heldWhileLoud;
}

function setQuiet(q: boolean): void {
  if (q === pointsQuiet) return;
  if (q) {
    left = QUIET_STRIDE - heldWhileLoud;
    heldWhileLoud = 0;
  } else {
    heldWhileLoud = QUIET_STRIDE - left;
    left = 0;
  }
  pointsQuiet = q;
}

function isQuietRunner(r: object): r is QuietRunner {
  return typeof (r as Partial<QuietRunner>).pointsQuiet === 'function';
}

/**
 * context.ts: `r` became this thread's runner. The quiet points not yet handed to the previous
 * one go to it (cpu_loop publishes a run's count after it has put its runner back).
 */
export function gateRunner(r: PointTaker): void {
  taker = r;
  const next = isQuietRunner(r) ? r : null;
  if (next !== owner) {
    owner?.absorbQuietPoints(pending());
    pointsQuiet = false;
    left = 0;
    heldWhileLoud = 0;
    owner = next;
  }
  setQuiet(owner?.pointsQuiet() === true);
}

/** A runner whose state changed: re-decide, if it is the gate's runner (a TracingRunner's inner is not). */
export function regate(r: QuietRunner): void {
  if (owner === r) setQuiet(r.pointsQuiet());
}

/** Quiet points counted so far and not yet handed to `r` (its `points` adds them). */
export function pendingQuietPoints(r: QuietRunner): number {
  return owner === r ? pending() : 0;
}

/** `r` reset its count (a new run): the pending points belonged to the last one. */
export function clearQuietPoints(r: QuietRunner): void {
  if (owner !== r) return;
  if (pointsQuiet) left = QUIET_STRIDE;
  else heldWhileLoud = 0;
}

// --- the lock gate ---

/**
 * lockGate's bit for "a lock was taken with lockdep or lock_stat on, on this thread": from then on
 * its releases check whether current holds locks lockdep tracked (they may have been taken before
 * debugging was switched off). Sticky: a thread that never tracked skips the check.
 */
const GATE_TRACKED = 1;
/** lockGate's bit for --trace recording on this thread (cpu/trace_buffer.ts). */
const GATE_TRACE = 2;
/** lockGate's unit for each preempt_disable() open on this thread, any CPU's (kernel/preempt.ts). */
const GATE_PREEMPT = 256;
/** The bits that send a release to its debug half: all but the preempt nesting. */
export const GATE_RELEASE_MASK = GATE_PREEMPT - 1;
/** The bits that send a spinlock's acquisition to its debug half (a sleeping lock's: lockGate >> 1). */
export const GATE_SPIN_MASK = GATE_RELEASE_MASK & ~GATE_TRACKED;

/**
 * 0 while lock operations have nothing to do but their point and their algorithm (see the header);
 * a sleeping lock's acquisition tests `lockGate >> 1` (all but GATE_TRACKED), a spinlock's
 * `lockGate & GATE_SPIN_MASK`, a release `lockGate & GATE_RELEASE_MASK`.
 */
export var lockGate = 0;

export function gateTracing(on: boolean): void {
  lockGate = on ? lockGate | GATE_TRACE : lockGate & ~GATE_TRACE;
}

/** A lock was taken with lockdep or lock_stat on (kernel/locking): see GATE_TRACKED. */
export function gateTracked(): void {
  lockGate |= GATE_TRACKED;
}

/** preempt_disable() on this thread. */
export function gatePreemptInc(): void {
  lockGate += GATE_PREEMPT;
}

/** preempt_enable() on this thread. */
export function gatePreemptDec(): void {
  lockGate -= GATE_PREEMPT;
}

/** A preempt count set outright (context.ts): the nesting moved by `delta`. */
export function gatePreempt(delta: number): void {
  lockGate += delta * GATE_PREEMPT;
}

/** The preempt nesting open on this thread, reloaded from its CPU's word (context.ts). */
export function gatePreemptSet(nesting: number): void {
  lockGate = (lockGate & GATE_RELEASE_MASK) + nesting * GATE_PREEMPT;
}

/** Is a preempt-disabled section open on this thread (on any CPU it acted as)? */
export function gatePreemptOpen(): boolean {
  return (lockGate & ~GATE_RELEASE_MASK) !== 0;
}
