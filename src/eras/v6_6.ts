// Linux v6.6: its rw_semaphore (kernel/locking/rwsem.c after the v5.3 rework: handoff, reader lock
// stealing, writer spinning off by default here), its RCU flavours and page-table freeing, over
// v6.1's teardown. The maple tree mm->mm_mt is in RCU mode since v6.3 (3dd4432549415f): its old
// nodes are freed after a grace period, dup_mmap builds the child's tree out of RCU mode and
// exit_mmap takes the tree out of it (mt_clear_in_rcu) before freeing. A fault grows a stack under
// the write lock (v6.5, c2508ec5a58d: StackRot, a node that stack expansion under the read lock
// retired and RCU freed under a reader holding only mmap_lock). Per-VMA locks as v6.4 merged them
// (vma_lock.ts VMA_LOCK_V6_6), with their 6.4.y and v6.5 fixes: dup_mmap write-locks each parent
// VMA (fb49c455323f), mmap_region() write-locks a new VMA before storing it (33313a747e81),
// expand_downwards() write-locks the growing stack (c137381f71ae), lock_vma_under_rcu tests
// anon_vma once the VMA is locked (657b5146955e), and the v6.6 handlers drop the VMA lock
// themselves on VM_FAULT_RETRY; exit_mmap frees VMAs directly (v6.4's). Nothing else changed materially in exit_mmap, the reaper or process_mrelease.
import { rwsem_v6_6 } from '../kernel/locking/rwsem_v6_6.js';
import { dup_mmap_v6_3 } from '../mm/dup_mmap.js';
import { exit_mmap_v6_4 } from '../mm/exit_mmap.js';
import { lock_mm_and_find_vma_v6_5 } from '../mm/fault.js';
import { MAPLE_TREE_V6_3 } from '../mm/maple_tree.js';
import { VMA_LOCK_V6_6 } from '../mm/vma_lock.js';
import type { EraProfile } from './profile.js';
import { v6_1 } from './v6_1.js';

export const v6_6: EraProfile = {
  ...v6_1,
  name: 'v6.6',
  release: '6.6.0',
  summary:
    "v6.6's rw_semaphore (handoff, reader stealing); the maple tree in RCU mode (v6.3: old nodes freed after a grace period, mt_clear_in_rcu in exit_mmap); stacks grow under the write lock (v6.5, lock_mm_and_find_vma); per-VMA locks as v6.4 with the 6.4.y/6.5 fixes (parent VMAs locked in dup_mmap, new mappings locked before they enter the tree, growing stacks write-locked, anon_vma tested once locked), exit_mmap freeing VMAs directly; v6.1's teardown forms otherwise",
  commits: [
    {
      id: 'b613c7f31476',
      subject: 'locking/rwsem: Prevent non-first waiter from spinning in down_write() slowpath',
    },
    { id: '3dd443254941', subject: 'mm: enable maple tree RCU mode by default' },
    { id: 'c2508ec5a58d', subject: "mm: introduce new 'lock_mm_and_find_vma()' page fault helper" },
    { id: '5e31275cc997', subject: 'mm: add per-VMA lock and helper functions to control it' },
    { id: 'fb49c455323f', subject: 'fork: lock VMAs of the parent process when forking' },
    {
      id: '33313a747e81',
      subject: 'mm: lock newly mapped VMA which can be modified after it becomes visible',
    },
    { id: '1c7873e33645', subject: 'mm: lock newly mapped VMA with corrected ordering' },
    { id: 'c137381f71ae', subject: 'mm: lock a vma before stack expansion' },
    { id: '657b5146955e', subject: 'mm: lock_vma_under_rcu() must check vma->anon_vma under vma lock' },
  ],
  mm: {
    ...v6_1.mm,
    exit_mmap: exit_mmap_v6_4,
    lock_mm_and_find_vma: lock_mm_and_find_vma_v6_5,
    dup_mmap: dup_mmap_v6_3,
  },
  vma: MAPLE_TREE_V6_3,
  rwsem: rwsem_v6_6,
  vmaLock: VMA_LOCK_V6_6,
};
