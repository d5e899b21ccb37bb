// include/linux/instrumented.h: atomic and lock-word accesses are instrumented for KASAN too. The
// checker lives in mm/kasan and registers itself here, as the kernel's instrumentation calls
// into whichever sanitizer is built in.
export const instrumentation: { check: ((addr: number, write: boolean) => void) | null } = { check: null };

/**
 * This thread's copy of "the sanitizer checks lock and atomic words" (mm/kasan.ts keeps it with
 * its switch, shm/thread_config.ts), tested before the call: with KASAN off on those words a lock
 * operation pays one test of a module variable.
 */
let atomicsChecked = false;

export function setAtomicsInstrumented(on: boolean): void {
  atomicsChecked = on && instrumentation.check !== null;
}

// include/linux/instrumented.h instrument_atomic_read_write(), v6.6
export function instrument_atomic_read_write(addr: number): void {
  if (atomicsChecked) instrumentation.check!(addr, true);
}
