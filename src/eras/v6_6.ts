// Linux v6.6: its rw_semaphore (kernel/locking/rwsem.c after the v5.3 rework: handoff, reader lock
// stealing, writer spinning off by default here), its RCU flavours and page-table freeing, over
// v4.15's mm functions: the later mm variants (maple tree, per-VMA locks, the reaper's v6 shape) are
// not modelled yet.
import { rwsem_v6_6 } from '../kernel/locking/rwsem_v6_6.js';
import { RCU_FLAVOURS_V4_20 } from '../kernel/rcu/flavour.js';
import { exit_mmap_v4_15 } from '../mm/exit_mmap.js';
import { TLB_REMOVE_PAGE_TABLES } from '../mm/mmu_gather.js';
import { mark_oom_victim_v4_15 } from '../mm/oom_kill.js';
import { X86_DISTRO_CONFIG } from './config.js';
import type { EraProfile } from './profile.js';

export const v6_6: EraProfile = {
  name: 'v6.6',
  release: '6.6.0',
  summary: "v6.6's rw_semaphore (handoff, reader stealing); mm functions as v4.15",
  commits: [
    {
      id: 'b613c7f31476',
      subject: 'locking/rwsem: Prevent non-first waiter from spinning in down_write() slowpath',
    },
  ],
  mm: { exit_mmap: exit_mmap_v4_15, mark_oom_victim: mark_oom_victim_v4_15 },
  rwsem: rwsem_v6_6,
  rcu: RCU_FLAVOURS_V4_20,
  config: X86_DISTRO_CONFIG,
  // arch/x86 v6.6 (48a8b97cfd80, v4.19): even with PARAVIRT, bare metal frees tables with the pages;
  // only Xen, Hyper-V and KVM guests with PV TLB flush use tlb_remove_table() (not modelled).
  pgtableFree: () => TLB_REMOVE_PAGE_TABLES,
};
