// arch/x86/mm/fault.c __do_page_fault(), v4.14, reduced to a user fault on an mm: take mmap_sem
// for reading, find the VMA, handle the fault.
import { traceBegin, traceEnd, traceFn } from '../cpu/trace_buffer.js';
import { down_read, down_read_trylock, up_read } from '../kernel/locking/rwsem.js';
import { handle_mm_fault, VM_FAULT_SIGSEGV, vma_start } from './memory.js';
import { MM } from './mm_types.js';
import { find_vma } from './mmap.js';

// --trace: function slices (cpu/trace_buffer.ts)
const T = {
  __do_page_fault: traceFn('__do_page_fault'),
};

export function __do_page_fault(mm: number, address: number, flags: number): number {
  traceBegin(T.__do_page_fault);
  try {
    address >>>= 0;
    if (!down_read_trylock(mm + MM.mmap_sem)) down_read(mm + MM.mmap_sem);
    const vma = find_vma(mm, address);
    if (!vma || vma_start(vma) > address) {
      up_read(mm + MM.mmap_sem);
      return VM_FAULT_SIGSEGV; // bad_area()
    }
    const fault = handle_mm_fault(vma, address, flags);
    up_read(mm + MM.mmap_sem);
    return fault;
  } finally {
    traceEnd(T.__do_page_fault);
  }
}
