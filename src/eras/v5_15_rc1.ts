// Linux v5.15-rc1..rc7: process_mrelease(2) as 884a7e5964e0 merged it, pinning only mm_count, over
// the v4.17 exit_mmap, which takes no lock for a non-victim: the D2 race. 337546e83fc7 fixed it
// before the v5.15 release (v5_15.ts).
import { __mmput_v4_14, check_mm_v5_4 } from '../kernel/fork.js';
import { rwsem_v6_1 } from '../kernel/locking/rwsem_v6_1.js';
import { RCU_FLAVOURS_V4_20 } from '../kernel/rcu/flavour.js';
import { dup_mmap_v4_14 } from '../mm/dup_mmap.js';
import { exit_mmap_v4_17 } from '../mm/exit_mmap.js';
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
import { process_mrelease_v5_15_rc1 } from '../mm/process_mrelease.js';
import { VMA_LIST_V4_14 } from '../mm/vma_list.js';
import { X86_DISTRO_CONFIG } from './config.js';
import type { EraProfile } from './profile.js';

export const v5_15_rc1: EraProfile = {
  name: 'v5.15-rc1',
  release: '5.15.0-rc1',
  summary:
    "process_mrelease(2) pins only mm_count and is no OOM victim, so the v4.17 exit_mmap frees page tables and VMAs under its walk (D2); MMF_OOM_REAP_QUEUED (v5.0). rw_semaphore: v6.1's stands in for v5.15's (v5.11's reader stealing is in both; v5.16's handoff_set is not in v5.15)",
  commits: [
    { id: '884a7e5964e0', subject: 'mm: introduce process_mrelease system call' },
    { id: '9bcdeb51bd7d', subject: 'oom, oom_reaper: do not enqueue same task twice' },
  ],
  mm: {
    check_mm: check_mm_v5_4,
    exit_mmap: exit_mmap_v4_17, // v5.12+ munlocks with unlock_range(): the same walk
    __mmput: __mmput_v4_14,
    mark_oom_victim: mark_oom_victim_v4_15,
    wake_oom_reaper: wake_oom_reaper_v5_0,
    oom_reap_task: oom_reap_task_v4_17,
    oom_reap_task_mm: oom_reap_task_mm_v4_17,
    __oom_reap_task_mm: __oom_reap_task_mm_v4_17,
    process_mrelease: process_mrelease_v5_15_rc1,
    lock_mm_and_find_vma: lock_mm_and_find_vma_v4_14,
    dup_mmap: dup_mmap_v4_14,
  },
  vma: VMA_LIST_V4_14,
  mmf: { MMF_OOM_VICTIM: MMF_OOM_VICTIM_v4_15, MMF_OOM_REAP_QUEUED: MMF_OOM_REAP_QUEUED_v5_0 },
  // There is no v5.x rw_semaphore here: v6.1's approximates v5.11-v6.0 (reader lock stealing came
  // in v5.11, the non-first writer's handoff_set in v5.16).
  rwsem: rwsem_v6_1,
  rcu: RCU_FLAVOURS_V4_20,
  config: X86_DISTRO_CONFIG,
  // arch/x86 since 48a8b97cfd80 (v4.19): bare metal frees tables with the pages.
  pgtableFree: () => TLB_REMOVE_PAGE_TABLES,
};
