// Linux v4.15 (and 4.14.y): 4837fe37adff "mm, oom_reaper: fix memory corruption" keys the
// exit_mmap barrier on the mm via MMF_OOM_VICTIM; the reaper gathers per VMA (687cb0884a71).
import { __mmput_v4_14, check_mm_v4_15 } from '../kernel/fork.js';
import { rwsem_v4_14 } from '../kernel/locking/rwsem_xadd.js';
import { RCU_FLAVOURS_V4_14 } from '../kernel/rcu/flavour.js';
import { dup_mmap_v4_14 } from '../mm/dup_mmap.js';
import { notInEra } from '../mm/era_ops.js';
import { exit_mmap_v4_15 } from '../mm/exit_mmap.js';
import { lock_mm_and_find_vma_v4_14 } from '../mm/fault.js';
import { MMF_OOM_VICTIM_v4_15 } from '../mm/mm_types.js';
import { RCU_TABLE_FREE_V4_14, TLB_REMOVE_PAGE_TABLES } from '../mm/mmu_gather.js';
import { mark_oom_victim_v4_15 } from '../mm/oom_kill.js';
import { __oom_reap_task_mm_v4_15, oom_reap_task_v4_13, wake_oom_reaper_v4_14 } from '../mm/oom_reaper.js';
import { process_mrelease_enosys } from '../mm/process_mrelease.js';
import { VMA_LIST_V4_14 } from '../mm/vma_list.js';
import { X86_DISTRO_CONFIG } from './config.js';
import type { EraProfile } from './profile.js';

export const v4_15: EraProfile = {
  name: 'v4.15',
  release: '4.15.0',
  summary:
    'exit_mmap barrier keyed on mm_is_oom_victim(mm) (MMF_OOM_VICTIM); munlock still runs under the reaper (C1)',
  commits: [
    { id: '4837fe37adff', subject: 'mm, oom_reaper: fix memory corruption' },
    { id: '687cb0884a71', subject: 'mm, oom_reaper: gather each vma to prevent leaking TLB entry' },
  ],
  mm: {
    check_mm: check_mm_v4_15,
    exit_mmap: exit_mmap_v4_15,
    __mmput: __mmput_v4_14,
    mark_oom_victim: mark_oom_victim_v4_15,
    wake_oom_reaper: wake_oom_reaper_v4_14,
    oom_reap_task: oom_reap_task_v4_13,
    oom_reap_task_mm: __oom_reap_task_mm_v4_15,
    __oom_reap_task_mm: notInEra('__oom_reap_task_mm(mm)'),
    process_mrelease: process_mrelease_enosys,
    lock_mm_and_find_vma: lock_mm_and_find_vma_v4_14,
    dup_mmap: dup_mmap_v4_14,
  },
  vma: VMA_LIST_V4_14,
  mmf: { MMF_OOM_VICTIM: MMF_OOM_VICTIM_v4_15 },
  rwsem: rwsem_v4_14,
  rcu: RCU_FLAVOURS_V4_14,
  config: X86_DISTRO_CONFIG,
  // arch/x86/Kconfig v4.14: select HAVE_RCU_TABLE_FREE if PARAVIRT
  pgtableFree: (c) => (c.PARAVIRT ? RCU_TABLE_FREE_V4_14 : TLB_REMOVE_PAGE_TABLES),
};
