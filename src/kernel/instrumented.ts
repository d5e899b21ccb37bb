// include/linux/instrumented.h: atomic and lock-word accesses are instrumented for KASAN too. The
// checker lives in mm/kasan and registers itself here, as the kernel's instrumentation calls
// into whichever sanitizer is built in.
export const instrumentation: { check: ((addr: number, write: boolean) => void) | null } = { check: null };

/**
 * This thread's copy of "the sanitizer checks lock and atomic words" (mm/kasan.ts keeps it with
 * its switch, shm/thread_config.ts), tested before the call: with KASAN off on those words a lock
 * operation pays one test of a module variable. A number, not a boolean: TurboFan has no type
 * feedback for a module variable, and `if (bool)` on an untyped value compiles to a full
 * ToBoolean (false, "", 0, NaN, undetectable... all tested), `n !== 0` to one compare.
 */
export var atomicsChecked = 0; // `var`: no TDZ hole check (see cpu/point_gate.ts)

export function setAtomicsInstrumented(on: boolean): void {
  atomicsChecked = on && instrumentation.check !== null ? 1 : 0;
}

// include/linux/instrumented.h instrument_atomic_read_write(), v6.6. Callers test atomicsChecked
// first (panic.ts check_kernel_pointer()), so that with KASAN off the call is never made.
export function instrument_atomic_read_write(addr: number): void {
  instrumentation.check!(addr, true);
}
