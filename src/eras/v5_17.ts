// Linux v5.17: exit_mmap under mmap_write_lock (64591e8605d6) ending with mm->mmap = NULL
// (f798a1d4f94d); process_mrelease with mmgrab and the MMF_OOM_SKIP recheck (ba535c1caf3e); the
// last era with munlock in exit_mmap and with VM_LOCKED skipped by the reaper.
import { __mmput_v4_14, check_mm_v5_4 } from '../kernel/fork.js';
import { rwsem_v6_1 } from '../kernel/locking/rwsem_v6_1.js';
import { RCU_FLAVOURS_V4_20 } from '../kernel/rcu/flavour.js';
import { dup_mmap_v4_14 } from '../mm/dup_mmap.js';
import { exit_mmap_v5_17 } from '../mm/exit_mmap.js';
import { lock_mm_and_find_vma_v4_14 } from '../mm/fault.js';
import { MMF_OOM_REAP_QUEUED_v5_0, MMF_OOM_VICTIM_v4_15 } from '../mm/mm_types.js';
import { TLB_REMOVE_PAGE_TABLES } from '../mm/mmu_gather.js';
import { mark_oom_victim_v4_15 } from '../mm/oom_kill.js';
import {
  __oom_reap_task_mm_v4_17,
  oom_reap_task_mm_v4_17,
  oom_reap_task_v4_17,
  wake_oom_reaper_v5_0,
} from '../mm/oom_reaper.js';
import { process_mrelease_v5_17 } from '../mm/process_mrelease.js';
import { VMA_LIST_V4_14 } from '../mm/vma_list.js';
import { X86_DISTRO_CONFIG } from './config.js';
import type { EraProfile } from './profile.js';

export const v5_17: EraProfile = {
  name: 'v5.17',
  release: '5.17.0',
  summary:
    "exit_mmap holds mmap_write_lock from munlock to the last remove_vma and empties mm->mmap; process_mrelease mmgrabs and rechecks MMF_OOM_SKIP under the read lock. rw_semaphore: v6.1's stands in for v5.17's",
  commits: [
    { id: '64591e8605d6', subject: 'mm: protect free_pgtables with mmap_lock write lock in exit_mmap' },
    { id: 'ba535c1caf3e', subject: 'mm/oom_kill: allow process_mrelease to run under mmap_lock protection' },
    { id: 'f798a1d4f94d', subject: 'mm: fix use-after-free bug when mm->mmap is reused after being freed' },
  ],
  mm: {
    check_mm: check_mm_v5_4,
    exit_mmap: exit_mmap_v5_17,
    __mmput: __mmput_v4_14,
    mark_oom_victim: mark_oom_victim_v4_15,
    wake_oom_reaper: wake_oom_reaper_v5_0,
    oom_reap_task: oom_reap_task_v4_17,
    oom_reap_task_mm: oom_reap_task_mm_v4_17,
    __oom_reap_task_mm: __oom_reap_task_mm_v4_17,
    process_mrelease: process_mrelease_v5_17,
    lock_mm_and_find_vma: lock_mm_and_find_vma_v4_14,
    dup_mmap: dup_mmap_v4_14,
  },
  vma: VMA_LIST_V4_14,
  mmf: { MMF_OOM_VICTIM: MMF_OOM_VICTIM_v4_15, MMF_OOM_REAP_QUEUED: MMF_OOM_REAP_QUEUED_v5_0 },
  // v6.1's rw_semaphore approximates v5.11-v6.0's (reader stealing since v5.11; handoff_set v5.16).
  rwsem: rwsem_v6_1,
  rcu: RCU_FLAVOURS_V4_20,
  config: X86_DISTRO_CONFIG,
  // arch/x86 since 48a8b97cfd80 (v4.19): bare metal frees tables with the pages.
  pgtableFree: () => TLB_REMOVE_PAGE_TABLES,
};
