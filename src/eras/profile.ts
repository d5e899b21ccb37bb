// An era profile: which variant of each changed kernel function a kernel release runs.
import { utsname } from '../kernel/utsname.js';
import { type MmEraOps, mmEraOps } from '../mm/era_ops.js';

export interface EraProfile {
  /** The name users pass (--variant v4.14). */
  readonly name: string;
  /** utsname release printed in oops and BUG headers. */
  readonly release: string;
  readonly summary: string;
  readonly mm: MmEraOps;
}

/** Installs `era` on this thread (every CPU worker and the main thread apply the same one). */
export function applyEra(era: EraProfile): void {
  Object.assign(mmEraOps, era.mm);
  utsname.release = era.release;
}
