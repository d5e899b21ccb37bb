// Linux v6.1: its rw_semaphore (v6.6's but for rwsem_try_write_lock(), rwsem_v6_1.ts), RCU with
// the flavours consolidated, bare-metal page-table freeing; mm functions as v4.15 for now (the
// maple tree, the v6.1 exit_mmap and the reaper's later forms are not modelled yet).
import { rwsem_v6_1 } from '../kernel/locking/rwsem_v6_1.js';
import { RCU_FLAVOURS_V4_20 } from '../kernel/rcu/flavour.js';
import { exit_mmap_v4_15 } from '../mm/exit_mmap.js';
import { TLB_REMOVE_PAGE_TABLES } from '../mm/mmu_gather.js';
import { mark_oom_victim_v4_15 } from '../mm/oom_kill.js';
import { X86_DISTRO_CONFIG } from './config.js';
import type { EraProfile } from './profile.js';

export const v6_1: EraProfile = {
  name: 'v6.1',
  release: '6.1.0',
  summary: "v6.1's rw_semaphore (a non-first writer may mark itself handoff_set); mm functions as v4.15",
  commits: [
    {
      id: '6eebd5fb2083',
      subject: 'locking/rwsem: Allow slowpath writer to ignore handoff bit if not set by first waiter',
    },
    { id: 'd257cc8cb8d5', subject: 'locking/rwsem: Make handoff bit handling more consistent' },
  ],
  mm: { exit_mmap: exit_mmap_v4_15, mark_oom_victim: mark_oom_victim_v4_15 },
  rwsem: rwsem_v6_1,
  rcu: RCU_FLAVOURS_V4_20,
  config: X86_DISTRO_CONFIG,
  // arch/x86 since 48a8b97cfd80 (v4.19): bare metal frees tables with the pages.
  pgtableFree: () => TLB_REMOVE_PAGE_TABLES,
};
