// The mm functions whose body changed between kernel releases. An era profile (src/eras/) fills
// these slots with the named variants (exit_mmap_v4_14, ...); callers use the kernel's names.
// applyEra() assigns every slot, so each era file fills each one (a function the era does not
// have is notInEra(), which throws if called). The MMF bit numbers that moved are EraProfile.mmf.
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';

/** The mm->flags bits whose numbers moved between releases (kernel-mm.md §3.3); absent: no such flag. */
export interface MmfBits {
  readonly MMF_OOM_VICTIM?: number;
  readonly MMF_OOM_REAP_QUEUED?: number;
}

export interface MmEraOps {
  /** mm/mmap.c exit_mmap(). */
  exit_mmap(mm: number): void;
  /** mm/memory.c check_stable_address_space(): SIGBUS once the reaper started (v4.13+). */
  check_stable_address_space(mm: number): number;
  /** kernel/fork.c check_mm() at __mmdrop: the era's message forms. */
  check_mm(mm: number): void;
  /** kernel/fork.c __mmput(): the last mm_users reference is gone. */
  __mmput(mm: number): void;
  /** mm/oom_kill.c mark_oom_victim(). */
  mark_oom_victim(tsk: number): void;
  /** What the OOM killer calls to hand a victim to the reaper: wake_oom_reaper() to v5.17, queue_oom_reaper() from v5.18. */
  wake_oom_reaper(tsk: number): void;
  /** mm/oom_kill.c oom_reap_task(): the reaper's retries for one victim. */
  oom_reap_task(tsk: number): void;
  /** One reaping attempt: oom_reap_task_mm() from v4.17, __oom_reap_task_mm(tsk, mm) before. False: retry. */
  oom_reap_task_mm(tsk: number, mm: number): boolean;
  /** The mm-only reap, v4.17+ (exit_mmap's self-reap, process_mrelease). */
  __oom_reap_task_mm(mm: number): boolean;
  /** mm/oom_kill.c process_mrelease(2), v5.15+; "pidfd" is a task pointer (process_mrelease.ts). */
  process_mrelease(pidfd: number, flags: number): number;
  /** kernel/fork.c dup_mmap(): fork's copy of the VMAs, into the era's VMA container. */
  dup_mmap(mm: number, oldmm: number): number;
  /**
   * The page fault's lock and VMA lookup, a stack grown if need be: inline in __do_page_fault() to
   * v6.4 (under the read lock), lock_mm_and_find_vma() from v6.5. The VMA, mmap_lock read-held; 0.
   */
  lock_mm_and_find_vma(mm: number, address: number): number;
  /**
   * do_munmap()'s mlock handling of the VMAs it unmaps, from `vma` up to `end`: munlock_vma_pages_all()
   * to v5.17, the locked_vm accounting alone from v5.18. The caller holds mmap_lock for writing.
   */
  unlock_range(mm: number, vma: number, end: number): void;
}

function unset(): never {
  throw new Error('no era profile applied (see src/eras/)');
}

/** A slot for a function the era does not have (listed as 'none'): calling it is the emulator's error. */
export function notInEra(name: string): () => never {
  const none = (): never => {
    throw new Error(`${name} does not exist in this era`);
  };
  return none;
}

export const mmEraOps: MmEraOps = {
  exit_mmap: unset,
  check_mm: unset,
  check_stable_address_space: unset,
  __mmput: unset,
  mark_oom_victim: unset,
  wake_oom_reaper: unset,
  oom_reap_task: unset,
  oom_reap_task_mm: unset,
  __oom_reap_task_mm: unset,
  process_mrelease: unset,
  dup_mmap: unset,
  lock_mm_and_find_vma: unset,
  unlock_range: unset,
};

/** The era's MMF bit numbers (EraProfile.mmf, installed by applyEra()). */
export const mmfBits: { bits: MmfBits } = { bits: {} };

/** The era's number for an MMF bit that not every era has. */
export function mmf(name: keyof MmfBits): number {
  const nr = mmfBits.bits[name];
  if (nr === undefined) throw new Error(`${name} does not exist in this era`);
  return nr;
}

// --trace: function slices (cpu/trace_buffer.ts)
const T = {
  dup_mmap: traceFn('dup_mmap'),
  exit_mmap: traceFn('exit_mmap'),
  process_mrelease: traceFn('process_mrelease'),
};

export function exit_mmap(mm: number): void {
  traceBegin(T.exit_mmap);
  try {
    mmEraOps.exit_mmap(mm);
  } finally {
    traceEnd(T.exit_mmap);
  }
}

/** Both mmap_locks are taken inside: 0 or -errno, the partial copy left for mmput(). */
export function dup_mmap(mm: number, oldmm: number): number {
  traceBegin(T.dup_mmap);
  try {
    return mmEraOps.dup_mmap(mm, oldmm);
  } finally {
    traceEnd(T.dup_mmap);
  }
}

export function lock_mm_and_find_vma(mm: number, address: number): number {
  return mmEraOps.lock_mm_and_find_vma(mm, address);
}

export function __mmput(mm: number): void {
  mmEraOps.__mmput(mm);
}

export function check_stable_address_space(mm: number): number {
  return mmEraOps.check_stable_address_space(mm);
}

export function check_mm(mm: number): void {
  mmEraOps.check_mm(mm);
}

export function mark_oom_victim(tsk: number): void {
  mmEraOps.mark_oom_victim(tsk);
}

export function wake_oom_reaper(tsk: number): void {
  mmEraOps.wake_oom_reaper(tsk);
}

export function oom_reap_task(tsk: number): void {
  mmEraOps.oom_reap_task(tsk);
}

export function oom_reap_task_mm(tsk: number, mm: number): boolean {
  return mmEraOps.oom_reap_task_mm(tsk, mm);
}

export function __oom_reap_task_mm(mm: number): boolean {
  return mmEraOps.__oom_reap_task_mm(mm);
}

export function unlock_range(mm: number, vma: number, end: number): void {
  mmEraOps.unlock_range(mm, vma, end);
}

/** The syscall: a negative errno or 0. */
export function process_mrelease(pidfd: number, flags = 0): number {
  traceBegin(T.process_mrelease);
  try {
    return mmEraOps.process_mrelease(pidfd, flags);
  } finally {
    traceEnd(T.process_mrelease);
  }
}
