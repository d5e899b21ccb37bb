// Linux v6.6: its rw_semaphore (kernel/locking/rwsem.c after the v5.3 rework: handoff, reader lock
// stealing, writer spinning off by default here), its RCU flavours and page-table freeing, over
// v6.1's teardown: nothing in exit_mmap, the reaper or process_mrelease that is modelled here
// changed materially between v6.1 and v6.6 except the per-VMA locks of v6.4, which are not
// modelled yet (the VMA container is still the vm_next list).
import { __mmput_v4_14, check_mm_v5_4 } from '../kernel/fork.js';
import { rwsem_v6_6 } from '../kernel/locking/rwsem_v6_6.js';
import { RCU_FLAVOURS_V4_20 } from '../kernel/rcu/flavour.js';
import { exit_mmap_v6_1 } from '../mm/exit_mmap.js';
import { MMF_OOM_REAP_QUEUED_v6_1 } from '../mm/mm_types.js';
import { TLB_REMOVE_PAGE_TABLES } from '../mm/mmu_gather.js';
import { mark_oom_victim_v4_14 } from '../mm/oom_kill.js';
import {
  __oom_reap_task_mm_v5_18,
  oom_reap_task_mm_v4_17,
  oom_reap_task_v4_17,
  queue_oom_reaper_v5_18,
} from '../mm/oom_reaper.js';
import { process_mrelease_v5_17 } from '../mm/process_mrelease.js';
import { X86_DISTRO_CONFIG } from './config.js';
import type { EraProfile } from './profile.js';

export const v6_6: EraProfile = {
  name: 'v6.6',
  release: '6.6.0',
  summary:
    "v6.6's rw_semaphore (handoff, reader stealing); v6.1's teardown forms (nothing modelled in exit/reaper changed materially before v6.4's per-VMA locks, which come later)",
  commits: [
    {
      id: 'b613c7f31476',
      subject: 'locking/rwsem: Prevent non-first waiter from spinning in down_write() slowpath',
    },
  ],
  mm: {
    check_mm: check_mm_v5_4,
    exit_mmap: exit_mmap_v6_1,
    __mmput: __mmput_v4_14,
    mark_oom_victim: mark_oom_victim_v4_14,
    wake_oom_reaper: queue_oom_reaper_v5_18,
    oom_reap_task: oom_reap_task_v4_17,
    oom_reap_task_mm: oom_reap_task_mm_v4_17,
    __oom_reap_task_mm: __oom_reap_task_mm_v5_18,
    process_mrelease: process_mrelease_v5_17,
  },
  mmf: { MMF_OOM_REAP_QUEUED: MMF_OOM_REAP_QUEUED_v6_1 },
  rwsem: rwsem_v6_6,
  rcu: RCU_FLAVOURS_V4_20,
  config: X86_DISTRO_CONFIG,
  // arch/x86 v6.6 (48a8b97cfd80, v4.19): even with PARAVIRT, bare metal frees tables with the pages;
  // only Xen, Hyper-V and KVM guests with PV TLB flush use tlb_remove_table() (not modelled).
  pgtableFree: () => TLB_REMOVE_PAGE_TABLES,
};
