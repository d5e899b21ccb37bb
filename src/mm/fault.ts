// arch/x86/mm/fault.c __do_page_fault(), v4.14, reduced to a user fault on an mm: take mmap_sem
// for reading, find the VMA (growing a stack VMA down to the address), check the access, handle
// the fault. The "below %sp" check needs the user registers and is not modelled. The lock and
// lookup step is an era slot (era_ops.ts lock_mm_and_find_vma): up to v6.4 a stack grows under the
// read lock (expand_stack()), from v6.5 (c2508ec5a58d, the StackRot fix, also 6.4.1/6.3.11/6.1.37)
// the fault upgrades to the write lock for it.
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';
import { down_read, down_read_trylock, up_read } from '../kernel/locking/rwsem.js';
import { lock_mm_and_find_vma } from './era_ops.js';
import { kread, kread_locked } from './kasan.js';
import { FAULT_FLAG_WRITE, handle_mm_fault, VM_FAULT_SIGSEGV, vma_start } from './memory.js';
import { MM, VM_EXEC, VM_GROWSDOWN, VM_READ, VM_WRITE, VMA } from './mm_types.js';
import { expand_downwards, expand_stack, find_vma } from './mmap.js';
import {
  mmap_read_lock_killable,
  mmap_read_trylock,
  mmap_read_unlock,
  mmap_write_downgrade,
  mmap_write_lock_killable,
  mmap_write_unlock,
} from './mmap_lock.js';
import { type FaultHooks, LOCK_MM_AND_FIND_VMA, vmaLockOps } from './vma_lock.js';

// --trace: function slices (cpu/trace_buffer.ts)
const T = {
  __do_page_fault: traceFn('__do_page_fault'),
};

// arch/x86/mm/fault.c access_error(), v4.14 (no protection keys; a read of a present page is
// not distinguished: PF_PROT reads cannot happen without PROT_NONE PTEs)
function access_error(flags: number, vma: number): boolean {
  const vm_flags = kread_locked(vma + VMA.vm_flags); // mmap_lock or the VMA's read lock is held
  if (flags & FAULT_FLAG_WRITE) return !(vm_flags & VM_WRITE);
  return !(vm_flags & (VM_READ | VM_EXEC | VM_WRITE));
}

// arch/x86/mm/fault.c __do_page_fault(), v4.14, its lock and lookup (inline there; v6.5 made them
// lock_mm_and_find_vma()): mmap_sem for reading, find_vma(), and a VM_GROWSDOWN VMA above the
// address grows down to it under that read lock (expand_stack(); in v6.1-v6.4 that also writes
// the maple tree under the read lock: StackRot, CVE-2023-3269). Returns the VMA with mmap_sem
// held for reading, or 0 with it released (bad_area()).
export function lock_mm_and_find_vma_v4_14(mm: number, address: number): number {
  if (!down_read_trylock(mm + MM.mmap_sem)) down_read(mm + MM.mmap_sem);
  const vma = find_vma(mm, address);
  if (
    !vma ||
    (vma_start(vma) > address &&
      (!(kread(vma + VMA.vm_flags) & VM_GROWSDOWN) || expand_stack(vma, address) !== 0))
  ) {
    up_read(mm + MM.mmap_sem);
    return 0;
  }
  return vma;
}

// mm/memory.c lock_mm_and_find_vma(), v6.5 (c2508ec5a58d "mm: introduce new 'lock_mm_and_find_vma()'
// page fault helper"): the read lock for the lookup; a stack that must grow is grown under the
// write lock (the read lock dropped, the write lock taken, the lookup redone), which is then
// downgraded. Returns the VMA with mmap_lock held for reading, or 0 with it released.
export function lock_mm_and_find_vma_v6_5(mm: number, address: number): number {
  // get_mmap_lock_carefully()
  if (!mmap_read_trylock(mm) && mmap_read_lock_killable(mm)) return 0;
  let vma = find_vma(mm, address);
  if (vma && vma_start(vma) <= address) return vma;
  // Well, dang. We might still be successful, but only if we can extend a vma to do so.
  if (!vma || !(kread(vma + VMA.vm_flags) & VM_GROWSDOWN)) {
    mmap_read_unlock(mm);
    return 0;
  }
  // upgrade_mmap_lock_carefully(): the hard way, the lookup redone under the write lock.
  mmap_read_unlock(mm);
  if (mmap_write_lock_killable(mm)) return 0;
  vma = find_vma(mm, address);
  const ok =
    vma &&
    (vma_start(vma) <= address ||
      (kread(vma + VMA.vm_flags) & VM_GROWSDOWN && expand_downwards(vma, address) === 0)); // expand_stack_locked()
  if (!ok) {
    mmap_write_unlock(mm);
    return 0;
  }
  mmap_write_downgrade(mm);
  return vma;
}

const FAULT_HOOKS: FaultHooks = { access_error, handle_mm_fault };

// arch/x86/mm/fault.c do_user_addr_fault() (__do_page_fault() to v5.7): from v6.4 the per-VMA
// lock is tried first (vma_lock.ts, per the era's generation); the classic mmap_lock path follows
// when it declines (no VMA lock, VMA_LOCK_ABORT) or the handler asked to retry (VMA_LOCK_RETRY).
export function __do_page_fault(mm: number, address: number, flags: number): number {
  traceBegin(T.__do_page_fault);
  try {
    address >>>= 0;
    const f = vmaLockOps.do_user_addr_fault_vma(mm, address, flags, FAULT_HOOKS);
    if (f !== LOCK_MM_AND_FIND_VMA) return f;
    const vma = lock_mm_and_find_vma(mm, address);
    if (!vma) return VM_FAULT_SIGSEGV; // bad_area(), bad_area_nosemaphore()
    if (access_error(flags, vma)) {
      up_read(mm + MM.mmap_sem);
      return VM_FAULT_SIGSEGV; // bad_area_access_error()
    }
    const fault = handle_mm_fault(vma, address, flags);
    up_read(mm + MM.mmap_sem);
    return fault;
  } finally {
    traceEnd(T.__do_page_fault);
  }
}
