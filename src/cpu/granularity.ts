// Scheduling granularity. Coarse (the default): CPUs switch at lock operations and at the kernel's
// own preemption points. Atomic: also before every shared access inside the primitives (lock
// words, sequence counts, refcounts), as loom yields at every atomic operation, so an exhaustive
// search of a primitive covers the interleavings inside its multi-step sequences.

export type PointGranularity = 'coarse' | 'atomic';

let atomic = false;
let windows = false;

/** Non-zero when an atomic point has anything to do (either switch on): the one test atomicPoint() makes. */
export var atomicGate = 0; // `var`: no TDZ hole check (see cpu/point_gate.ts)

/** This thread's granularity, set by its CPU loop for the campaign. */
export function setPointGranularity(g: PointGranularity): void {
  atomic = g === 'atomic';
  atomicGate = atomic || windows ? 1 : 0;
}

export function pointGranularity(): PointGranularity {
  return atomic ? 'atomic' : 'coarse';
}

/** Whether the primitives' shared accesses are decision points (see atomic_point in context.ts). */
export function atomicPoints(): boolean {
  return atomic;
}

/**
 * Free mode with jitter windows: an atomic point that is not a decision point may still be a
 * named race window (a delay there is how a kernel developer widens a race of a few instructions).
 */
export function setAtomicWindows(on: boolean): void {
  windows = on;
  atomicGate = atomic || windows ? 1 : 0;
}

export function atomicWindows(): boolean {
  return windows;
}
