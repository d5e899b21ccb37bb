// Thread-local copies of machine-wide switches that live in the arena (lockdep's config word,
// KASAN's lock-word flag). Their hot paths run on every lock operation and checked access, and
// read the copy (a plain variable of this thread) instead of paying one Atomics.load each time.
//
// Every copy is refreshed from the arena:
// - when this thread attaches an arena (useArena: a CPU worker at start-up, the main thread's
//   Machine.attach(), which it calls before each run's setup and after each run);
// - at the start of every run on every CPU (cpu/cpu_loop.ts), after the CPU has seen the run's
//   generation bumped, so it sees what the main thread wrote before starting the run;
// - when this thread changes the switch (its setter updates the copy too).
// So a switch flipped between runs (how the main thread, the CLI and the tests use them) is seen
// by every CPU and the main thread for the whole next run. A CPU program that flips one in the
// middle of a run changes it at once for itself, and for the other CPUs from their next run.
const refreshers: (() => void)[] = [];
let attached = false;

/**
 * Registers the refresh of one thread-local copy (it reads the arena's word into the copy); it
 * runs at once when this thread is already attached to an arena.
 */
export function threadConfig(refresh: () => void): void {
  refreshers.push(refresh);
  if (attached) refresh();
}

/** Reloads every thread-local copy from the current arena (see the header for when). */
export function refreshThreadConfig(): void {
  attached = true;
  for (const r of refreshers) r();
}
