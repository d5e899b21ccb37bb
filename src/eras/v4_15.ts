// Linux v4.15 (and 4.14.y): 4837fe37adff "mm, oom_reaper: fix memory corruption" keys the
// exit_mmap barrier on the mm via MMF_OOM_VICTIM.
import { rwsem_v4_14 } from '../kernel/locking/rwsem_xadd.js';
import { RCU_FLAVOURS_V4_14 } from '../kernel/rcu/flavour.js';
import { exit_mmap_v4_15 } from '../mm/exit_mmap.js';
import { RCU_TABLE_FREE_V4_14, TLB_REMOVE_PAGE_TABLES } from '../mm/mmu_gather.js';
import { mark_oom_victim_v4_15 } from '../mm/oom_kill.js';
import { X86_DISTRO_CONFIG } from './config.js';
import type { EraProfile } from './profile.js';

export const v4_15: EraProfile = {
  name: 'v4.15',
  release: '4.15.0',
  summary: 'exit_mmap barrier keyed on mm_is_oom_victim(mm) (MMF_OOM_VICTIM)',
  commits: [{ id: '4837fe37adff', subject: 'mm, oom_reaper: fix memory corruption' }],
  mm: { exit_mmap: exit_mmap_v4_15, mark_oom_victim: mark_oom_victim_v4_15 },
  rwsem: rwsem_v4_14,
  rcu: RCU_FLAVOURS_V4_14,
  config: X86_DISTRO_CONFIG,
  // arch/x86/Kconfig v4.14: select HAVE_RCU_TABLE_FREE if PARAVIRT
  pgtableFree: (c) => (c.PARAVIRT ? RCU_TABLE_FREE_V4_14 : TLB_REMOVE_PAGE_TABLES),
};
