// Linux v6.1: its rw_semaphore (v6.6's but for rwsem_try_write_lock(), rwsem_v6_1.ts), RCU with
// the flavours consolidated, bare-metal page-table freeing, and the teardown of bf3980c85212:
// exit_mmap read-locks for unmap_vmas, sets MMF_OOM_SKIP for everyone, write-locks for
// free_pgtables and the VMA teardown (BUG_ON(count != mm->map_count)), and destroys the VMA
// container. The VMAs are in the maple tree mm->mm_mt (maple_tree.ts: one copy-on-write node),
// not in RCU mode: readers hold mmap_lock, a write frees the node it replaces at once.
import { dup_mmap_v6_1 } from '../mm/dup_mmap.js';
import { exit_mmap_v6_1 } from '../mm/exit_mmap.js';
import { MAPLE_TREE_V6_1 } from '../mm/maple_tree.js';
import { MMF_OOM_REAP_QUEUED_v6_1 } from '../mm/mm_types.js';
import { mark_oom_victim_v4_14 } from '../mm/oom_kill.js';
import type { EraProfile } from './profile.js';
import { rfc_2022_05 } from './rfc_2022_05.js';

export const v6_1: EraProfile = {
  ...rfc_2022_05,
  name: 'v6.1',
  release: '6.1.0',
  summary:
    "v6.1's rw_semaphore (a non-first writer may mark itself handoff_set); exit_mmap of bf3980c85212 (read lock for unmap, MMF_OOM_SKIP for all, write lock for free_pgtables and the VMA teardown, container destroyed); v5.18's reaper (2 s timer, VM_LOCKED reaped); process_mrelease as v5.17; the VMAs in the maple tree, not in RCU mode",
  commits: [
    {
      id: '6eebd5fb2083',
      subject: 'locking/rwsem: Allow slowpath writer to ignore handoff bit if not set by first waiter',
    },
    { id: 'd257cc8cb8d5', subject: 'locking/rwsem: Make handoff bit handling more consistent' },
    { id: 'd4af56c5c7c6', subject: 'mm: start tracking VMAs with maple tree' },
    { id: 'bf3980c85212', subject: 'mm: drop oom code from exit_mmap' },
    { id: 'b3541d912a84', subject: 'mm: delete unused MMF_OOM_VICTIM flag' },
  ],
  mm: {
    ...rfc_2022_05.mm,
    exit_mmap: exit_mmap_v6_1,
    mark_oom_victim: mark_oom_victim_v4_14,
    dup_mmap: dup_mmap_v6_1,
  },
  vma: MAPLE_TREE_V6_1,
  mmf: { MMF_OOM_REAP_QUEUED: MMF_OOM_REAP_QUEUED_v6_1 },
};
