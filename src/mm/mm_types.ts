// include/linux/mm_types.h, include/linux/mm.h and include/linux/sched/coredump.h: mm_struct,
// vm_area_struct and their flags.

import { RWSEM } from '../kernel/locking/rwsem.js';
import { defineStruct } from '../shm/layout.js';

// include/linux/maple_tree.h struct maple_tree (v6.1): ma_flags, then ma_root (here: 0, or the one
// node holding every entry, maple_tree.ts), then ma_external_lock (CONFIG_LOCKDEP's pointer to
// the lock mt_set_external_lock() named; the kernel keeps it in a union with ma_lock).
export const MAPLE_TREE = defineStruct('maple_tree', ['ma_flags', 'ma_root', 'ma_external_lock']);

export const MM = defineStruct('mm_struct', [
  'mmap', // first VMA on the vm_next list: the VMA container up to v6.0 (vma_list.ts); 0 from v6.1
  'mm_mt[3]', // struct maple_tree mm_mt: the VMA container from v6.1 (maple_tree.ts)
  'map_count',
  'pgd',
  'mm_users',
  'mm_count',
  'pgtables_bytes',
  'mmap_sem[6]',
  'page_table_lock',
  'flags',
  'rss_stat[4]',
  'total_vm',
  'locked_vm',
  'owner',
  'mm_lock_seq', // per-VMA locks: int (rfc-2022-09, v6.4), seqcount_t's sequence (v6.14+, vma_lock.ts)
  'vma_writer_wait', // struct rcuwait (v6.15): the writer waiting for a VMA's readers to leave
  'async_put_work', // mmput_async()'s work item, v4.7-v4.13 era: the link on the deferred-__mmput list
]);
if (RWSEM.SIZE !== 6) throw new Error('mm_struct.mmap_sem must be sized as struct rw_semaphore');
if (MAPLE_TREE.SIZE !== 3) throw new Error('mm_struct.mm_mt must be sized as struct maple_tree');

export const VMA = defineStruct('vm_area_struct', [
  'vm_start',
  'vm_end',
  'vm_next', // the vm_next list, up to v6.0; never written from v6.1 (it stays 0)
  'vm_prev',
  'vm_mm',
  'vm_page_prot',
  'vm_flags',
  'anon_vma',
  'vm_file',
  'vm_pgoff',
  'vm_lock_seq',
  'vm_lock_rwsem[6]', // struct rw_semaphore lock inside the VMA: the Sep 2022 RFC (vma_lock.ts)
  'vm_lock', // struct vma_lock *vm_lock, separately allocated (v6.4 to v6.14)
  'detached', // bool detached (v6.4 to v6.14)
  'vm_refcnt', // refcount_t vm_refcnt (v6.15+): 0 detached, 1 attached, +1 per reader, +VMA_LOCK_OFFSET writer
]);
if (VMA.vm_lock_rwsem + RWSEM.SIZE !== VMA.vm_lock)
  throw new Error('vm_area_struct.lock must be sized as struct rw_semaphore');

// rss counters (include/linux/mm_types_task.h)
export const MM_FILEPAGES = 0;
export const MM_ANONPAGES = 1;
export const MM_SWAPENTS = 2;
export const MM_SHMEMPAGES = 3;
export const NR_MM_COUNTERS = 4;
export const resident_page_types = ['MM_FILEPAGES', 'MM_ANONPAGES', 'MM_SWAPENTS', 'MM_SHMEMPAGES'];

// mm->flags bits that do not move between eras (include/linux/sched/coredump.h)
export const MMF_OOM_SKIP = 21;
export const MMF_UNSTABLE = 22;
// The bits above 24 move (kernel-mm.md §3.3); an era names its own in EraProfile.mmf.
/** v4.15-v6.0: set once by mark_oom_victim(), never cleared (4837fe37adff; gone in v6.1). */
export const MMF_OOM_VICTIM_v4_15 = 25;
/** v5.0-v6.0: set once when the mm is queued for the reaper (9bcdeb51bd7d). */
export const MMF_OOM_REAP_QUEUED_v5_0 = 26;
/** v6.1+: one bit lower, MMF_OOM_VICTIM having been deleted (b3541d912a84). */
export const MMF_OOM_REAP_QUEUED_v6_1 = 25;

// vma->vm_flags (include/linux/mm.h)
export const VM_READ = 0x00000001;
export const VM_WRITE = 0x00000002;
export const VM_EXEC = 0x00000004;
export const VM_SHARED = 0x00000008;
export const VM_MAYREAD = 0x00000010;
export const VM_MAYWRITE = 0x00000020;
export const VM_MAYEXEC = 0x00000040;
export const VM_MAYSHARE = 0x00000080;
export const VM_GROWSDOWN = 0x00000100;
export const VM_PFNMAP = 0x00000400;
export const VM_LOCKED = 0x00002000;
export const VM_DONTCOPY = 0x00020000;
export const VM_LOCKONFAULT = 0x00080000;
export const VM_ACCOUNT = 0x00100000;
export const VM_NORESERVE = 0x00200000;
export const VM_HUGETLB = 0x00400000;
export const VM_SOFTDIRTY = 0x08000000;
export const VM_MIXEDMAP = 0x10000000;
export const VM_HUGEPAGE = 0x20000000; // MADV_HUGEPAGE

/** include/linux/limits.h ULONG_MAX of the 32-bit kernel emulated here (addresses are u32). */
export const ULONG_MAX = 0xffffffff;
export const FIRST_USER_ADDRESS = 0;
export const USER_PGTABLES_CEILING = 0;
export const TASK_SIZE = 0xc0000000;
