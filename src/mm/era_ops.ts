// The mm functions whose body changed between kernel releases. An era profile (src/eras/) fills
// these slots with the named variants (exit_mmap_v4_14, ...); callers use the kernel's names.
export interface MmEraOps {
  exit_mmap(mm: number): void;
  mark_oom_victim(tsk: number): void;
}

function unset(): never {
  throw new Error('no era profile applied (see src/eras/)');
}

export const mmEraOps: MmEraOps = { exit_mmap: unset, mark_oom_victim: unset };

export function exit_mmap(mm: number): void {
  mmEraOps.exit_mmap(mm);
}

export function mark_oom_victim(tsk: number): void {
  mmEraOps.mark_oom_victim(tsk);
}
