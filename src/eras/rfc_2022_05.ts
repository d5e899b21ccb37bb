// "mm: drop oom code from exit_mmap", v2 as Suren Baghdasaryan posted it in May 2022 (lore
// 20220516075619.1277152-1-surenb@google.com), on the vm_next list, over v5.18 (its base, with
// a213e5cf71cb and e4a38402c36e): exit_mmap read-locks for unmap_vmas, sets MMF_OOM_SKIP for
// everyone, write-locks for free_pgtables and the remove_vma loop, and empties mm->mmap. Patch
// 1/2 only: mark_oom_victim still sets the now unused MMF_OOM_VICTIM. Merged, rebased on the
// maple tree, as bf3980c85212 in v6.1.
import { __mmput_v4_14, check_mm_v5_4 } from '../kernel/fork.js';
import { rwsem_v6_1 } from '../kernel/locking/rwsem_v6_1.js';
import { RCU_FLAVOURS_V4_20 } from '../kernel/rcu/flavour.js';
import { dup_mmap_v4_14 } from '../mm/dup_mmap.js';
import { exit_mmap_rfc_2022_05 } from '../mm/exit_mmap.js';
import { lock_mm_and_find_vma_v4_14 } from '../mm/fault.js';
import { MMF_OOM_REAP_QUEUED_v5_0, MMF_OOM_VICTIM_v4_15 } from '../mm/mm_types.js';
import { TLB_REMOVE_PAGE_TABLES } from '../mm/mmu_gather.js';
import { mark_oom_victim_v4_15 } from '../mm/oom_kill.js';
import {
  __oom_reap_task_mm_v5_18,
  oom_reap_task_mm_v4_17,
  oom_reap_task_v4_17,
  queue_oom_reaper_v5_18,
} from '../mm/oom_reaper.js';
import { process_mrelease_v5_17 } from '../mm/process_mrelease.js';
import { VMA_LIST_V4_14 } from '../mm/vma_list.js';
import { X86_DISTRO_CONFIG } from './config.js';
import type { EraProfile } from './profile.js';

export const rfc_2022_05: EraProfile = {
  name: 'rfc-2022-05',
  release: '5.18.0-rfc',
  summary:
    "Suren's May 2022 v2 exit_mmap on v5.18: read lock for unmap_vmas (reapers zap alongside), unconditional MMF_OOM_SKIP, write lock for free_pgtables and remove_vma, mm->mmap = NULL; v5.18's reaper (2 s timer, VM_LOCKED reaped, no munlock). rw_semaphore: v6.1's stands in for v5.18's",
  commits: [
    { id: 'a213e5cf71cb', subject: 'mm/munlock: delete munlock_vma_pages_all(), allow oomreap' },
    {
      id: 'e4a38402c36e',
      subject: 'oom_kill.c: futex: delay the OOM reaper to allow time for proper futex cleanup',
    },
    {
      id: 'bf3980c85212',
      subject: 'mm: drop oom code from exit_mmap (here its v2 as posted, before the maple tree)',
    },
  ],
  mm: {
    check_mm: check_mm_v5_4,
    exit_mmap: exit_mmap_rfc_2022_05,
    __mmput: __mmput_v4_14,
    mark_oom_victim: mark_oom_victim_v4_15,
    wake_oom_reaper: queue_oom_reaper_v5_18,
    oom_reap_task: oom_reap_task_v4_17,
    oom_reap_task_mm: oom_reap_task_mm_v4_17,
    __oom_reap_task_mm: __oom_reap_task_mm_v5_18,
    process_mrelease: process_mrelease_v5_17,
    lock_mm_and_find_vma: lock_mm_and_find_vma_v4_14,
    dup_mmap: dup_mmap_v4_14,
  },
  vma: VMA_LIST_V4_14,
  mmf: { MMF_OOM_VICTIM: MMF_OOM_VICTIM_v4_15, MMF_OOM_REAP_QUEUED: MMF_OOM_REAP_QUEUED_v5_0 },
  // v6.1's rw_semaphore approximates v5.18's (reader stealing since v5.11; handoff_set v5.16).
  rwsem: rwsem_v6_1,
  rcu: RCU_FLAVOURS_V4_20,
  config: X86_DISTRO_CONFIG,
  // arch/x86 since 48a8b97cfd80 (v4.19): bare metal frees tables with the pages.
  pgtableFree: () => TLB_REMOVE_PAGE_TABLES,
};
