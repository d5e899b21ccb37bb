// include/linux/instrumented.h: atomic and lock-word accesses are instrumented for KASAN too. The
// checker lives in mm/kasan and registers itself here, as the kernel's instrumentation calls
// into whichever sanitizer is built in.
export const instrumentation: { check: ((addr: number, write: boolean) => void) | null } = { check: null };

export function instrument_atomic_read_write(addr: number): void {
  instrumentation.check?.(addr, true);
}
