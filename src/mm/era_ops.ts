// The mm functions whose body changed between kernel releases. An era profile (src/eras/) fills
// these slots with the named variants (exit_mmap_v4_14, ...); callers use the kernel's names.
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';

export interface MmEraOps {
  exit_mmap(mm: number): void;
  mark_oom_victim(tsk: number): void;
}

function unset(): never {
  throw new Error('no era profile applied (see src/eras/)');
}

export const mmEraOps: MmEraOps = { exit_mmap: unset, mark_oom_victim: unset };

// --trace: function slices (cpu/trace_buffer.ts)
const T = {
  exit_mmap: traceFn('exit_mmap'),
};

export function exit_mmap(mm: number): void {
  traceBegin(T.exit_mmap);
  try {
    mmEraOps.exit_mmap(mm);
  } finally {
    traceEnd(T.exit_mmap);
  }
}

export function mark_oom_victim(tsk: number): void {
  mmEraOps.mark_oom_victim(tsk);
}
