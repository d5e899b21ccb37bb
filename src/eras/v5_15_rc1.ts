// Linux v5.15-rc1..rc7: process_mrelease(2) as 884a7e5964e0 merged it, pinning only mm_count, over
// the v4.17 exit_mmap, which takes no lock for a non-victim: the D2 race. 337546e83fc7 fixed it
// before the v5.15 release (v5_15.ts).
import { check_mm_v5_4 } from '../kernel/fork.js';
import { rwsem_v6_1 } from '../kernel/locking/rwsem_v6_1.js';
import { RCU_FLAVOURS_V4_20 } from '../kernel/rcu/flavour.js';
import { MMF_OOM_REAP_QUEUED_v5_0, MMF_OOM_VICTIM_v4_15 } from '../mm/mm_types.js';
import { wake_oom_reaper_v5_0 } from '../mm/oom_reaper.js';
import { process_mrelease_v5_15_rc1 } from '../mm/process_mrelease.js';
import { x86_pgtable_free_direct } from './config.js';
import type { EraProfile } from './profile.js';
import { v4_17 } from './v4_17.js';

export const v5_15_rc1: EraProfile = {
  ...v4_17,
  name: 'v5.15-rc1',
  release: '5.15.0-rc1',
  summary:
    "process_mrelease(2) pins only mm_count and is no OOM victim, so the v4.17 exit_mmap frees page tables and VMAs under its walk (D2); MMF_OOM_REAP_QUEUED (v5.0). rw_semaphore: v6.1's stands in for v5.15's (v5.11's reader stealing is in both; v5.16's handoff_set is not in v5.15)",
  commits: [
    { id: '884a7e5964e0', subject: 'mm: introduce process_mrelease system call' },
    { id: '9bcdeb51bd7d', subject: 'oom, oom_reaper: do not enqueue same task twice' },
  ],
  mm: {
    ...v4_17.mm,
    check_mm: check_mm_v5_4,
    wake_oom_reaper: wake_oom_reaper_v5_0,
    process_mrelease: process_mrelease_v5_15_rc1,
  },
  mmf: { MMF_OOM_VICTIM: MMF_OOM_VICTIM_v4_15, MMF_OOM_REAP_QUEUED: MMF_OOM_REAP_QUEUED_v5_0 },
  // There is no v5.x rw_semaphore here: v6.1's approximates v5.11-v6.0 (reader lock stealing came
  // in v5.11, the non-first writer's handoff_set in v5.16).
  rwsem: rwsem_v6_1,
  rcu: RCU_FLAVOURS_V4_20,
  pgtableFree: x86_pgtable_free_direct,
};
