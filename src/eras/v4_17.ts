// Linux v4.17 (to v4.20 in what is modelled): a victim's exit_mmap reaps its own mm, sets
// MMF_OOM_SKIP and waits out the reaper before it munlocks (27ae357fa82b, CVE-2018-1000200).
import { __mmput_v4_14, check_mm_v4_15 } from '../kernel/fork.js';
import { rwsem_v4_14 } from '../kernel/locking/rwsem_xadd.js';
import { RCU_FLAVOURS_V4_14 } from '../kernel/rcu/flavour.js';
import { dup_mmap_v4_14 } from '../mm/dup_mmap.js';
import { exit_mmap_v4_17 } from '../mm/exit_mmap.js';
import { lock_mm_and_find_vma_v4_14 } from '../mm/fault.js';
import { MMF_OOM_VICTIM_v4_15 } from '../mm/mm_types.js';
import { RCU_TABLE_FREE_V4_14, TLB_REMOVE_PAGE_TABLES } from '../mm/mmu_gather.js';
import { mark_oom_victim_v4_15 } from '../mm/oom_kill.js';
import {
  __oom_reap_task_mm_v4_17,
  oom_reap_task_mm_v4_17,
  oom_reap_task_v4_17,
  wake_oom_reaper_v4_14,
} from '../mm/oom_reaper.js';
import { process_mrelease_enosys } from '../mm/process_mrelease.js';
import { VMA_LIST_V4_14 } from '../mm/vma_list.js';
import { X86_DISTRO_CONFIG } from './config.js';
import type { EraProfile } from './profile.js';

export const v4_17: EraProfile = {
  name: 'v4.17',
  release: '4.17.0',
  summary:
    "a victim's exit_mmap self-reaps (__oom_reap_task_mm(mm)), sets MMF_OOM_SKIP and takes the write-lock barrier before munlock; the reaper's per-task queueing test still misses the tail (Q1)",
  commits: [{ id: '27ae357fa82b', subject: 'mm, oom: fix concurrent munlock and oom reaper unmap, v3' }],
  mm: {
    check_mm: check_mm_v4_15,
    exit_mmap: exit_mmap_v4_17,
    __mmput: __mmput_v4_14,
    mark_oom_victim: mark_oom_victim_v4_15,
    wake_oom_reaper: wake_oom_reaper_v4_14,
    oom_reap_task: oom_reap_task_v4_17,
    oom_reap_task_mm: oom_reap_task_mm_v4_17,
    __oom_reap_task_mm: __oom_reap_task_mm_v4_17,
    process_mrelease: process_mrelease_enosys,
    lock_mm_and_find_vma: lock_mm_and_find_vma_v4_14,
    dup_mmap: dup_mmap_v4_14,
  },
  vma: VMA_LIST_V4_14,
  mmf: { MMF_OOM_VICTIM: MMF_OOM_VICTIM_v4_15 },
  rwsem: rwsem_v4_14,
  rcu: RCU_FLAVOURS_V4_14,
  config: X86_DISTRO_CONFIG,
  // arch/x86/Kconfig v4.14-v4.18: select HAVE_RCU_TABLE_FREE if PARAVIRT
  pgtableFree: (c) => (c.PARAVIRT ? RCU_TABLE_FREE_V4_14 : TLB_REMOVE_PAGE_TABLES),
};
