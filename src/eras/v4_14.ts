// Linux v4.14: the OOM reaper pins only mm_count (212925802454); exit_mmap's barrier against it
// depends on tsk_is_oom_victim(current).
import { rwsem_v4_14 } from '../kernel/locking/rwsem_xadd.js';
import { RCU_FLAVOURS_V4_14 } from '../kernel/rcu/flavour.js';
import { exit_mmap_v4_14 } from '../mm/exit_mmap.js';
import { RCU_TABLE_FREE_V4_14, TLB_REMOVE_PAGE_TABLES } from '../mm/mmu_gather.js';
import { mark_oom_victim_v4_14 } from '../mm/oom_kill.js';
import { X86_DISTRO_CONFIG } from './config.js';
import type { EraProfile } from './profile.js';

export const v4_14: EraProfile = {
  name: 'v4.14',
  release: '4.14.0',
  summary: 'reaper without mm_users pin; exit_mmap barrier only when current is the OOM victim',
  commits: [{ id: '212925802454', subject: 'mm: oom: let oom_reap_task and exit_mmap run concurrently' }],
  mm: { exit_mmap: exit_mmap_v4_14, mark_oom_victim: mark_oom_victim_v4_14 },
  rwsem: rwsem_v4_14,
  rcu: RCU_FLAVOURS_V4_14,
  config: X86_DISTRO_CONFIG,
  // arch/x86/Kconfig v4.14: select HAVE_RCU_TABLE_FREE if PARAVIRT
  pgtableFree: (c) => (c.PARAVIRT ? RCU_TABLE_FREE_V4_14 : TLB_REMOVE_PAGE_TABLES),
};
