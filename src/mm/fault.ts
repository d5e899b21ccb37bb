// arch/x86/mm/fault.c __do_page_fault(), v4.14, reduced to a user fault on an mm: take mmap_sem
// for reading, find the VMA, grow a stack VMA down to the address (expand_stack(), still under the
// read lock as v4.14…v6.4 did), check the access, handle the fault. The "below %sp" check needs
// the user registers and is not modelled.
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';
import { down_read, down_read_trylock, up_read } from '../kernel/locking/rwsem.js';
import { kread } from './kasan.js';
import { FAULT_FLAG_WRITE, handle_mm_fault, VM_FAULT_SIGSEGV, vma_start } from './memory.js';
import { MM, VM_EXEC, VM_GROWSDOWN, VM_READ, VM_WRITE, VMA } from './mm_types.js';
import { expand_stack, find_vma } from './mmap.js';

// --trace: function slices (cpu/trace_buffer.ts)
const T = {
  __do_page_fault: traceFn('__do_page_fault'),
};

// arch/x86/mm/fault.c access_error(), v4.14 (no protection keys; a read of a present page is
// not distinguished: PF_PROT reads cannot happen without PROT_NONE PTEs)
function access_error(flags: number, vma: number): boolean {
  const vm_flags = kread(vma + VMA.vm_flags);
  if (flags & FAULT_FLAG_WRITE) return !(vm_flags & VM_WRITE);
  return !(vm_flags & (VM_READ | VM_EXEC | VM_WRITE));
}

export function __do_page_fault(mm: number, address: number, flags: number): number {
  traceBegin(T.__do_page_fault);
  try {
    address >>>= 0;
    if (!down_read_trylock(mm + MM.mmap_sem)) down_read(mm + MM.mmap_sem);
    const vma = find_vma(mm, address);
    const bad =
      !vma ||
      (vma_start(vma) > address &&
        (!(kread(vma + VMA.vm_flags) & VM_GROWSDOWN) || expand_stack(vma, address) !== 0)) ||
      access_error(flags, vma);
    if (bad) {
      up_read(mm + MM.mmap_sem);
      return VM_FAULT_SIGSEGV; // bad_area(), bad_area_access_error()
    }
    const fault = handle_mm_fault(vma, address, flags);
    up_read(mm + MM.mmap_sem);
    return fault;
  } finally {
    traceEnd(T.__do_page_fault);
  }
}
