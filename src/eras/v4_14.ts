// Linux v4.14: the OOM reaper pins only mm_count (212925802454); exit_mmap's barrier against it
// depends on tsk_is_oom_victim(current).
import { __mmput_v4_14, check_mm_v4_13 } from '../kernel/fork.js';
import { rwsem_v4_14 } from '../kernel/locking/rwsem_xadd.js';
import { RCU_FLAVOURS_V4_14 } from '../kernel/rcu/flavour.js';
import { dup_mmap_v4_14 } from '../mm/dup_mmap.js';
import { notInEra } from '../mm/era_ops.js';
import { exit_mmap_v4_14 } from '../mm/exit_mmap.js';
import { lock_mm_and_find_vma_v4_14 } from '../mm/fault.js';
import { check_stable_address_space_v4_13 } from '../mm/memory.js';
import { unlock_range_v4_14 } from '../mm/mmap.js';
import { mark_oom_victim_v4_14 } from '../mm/oom_kill.js';
import { __oom_reap_task_mm_v4_14, oom_reap_task_v4_13, wake_oom_reaper_v4_14 } from '../mm/oom_reaper.js';
import { process_mrelease_enosys } from '../mm/process_mrelease.js';
import { VMA_LIST_V4_14 } from '../mm/vma_list.js';
import { X86_DISTRO_CONFIG, x86_pgtable_free_v4_14 } from './config.js';
import type { EraProfile } from './profile.js';

export const v4_14: EraProfile = {
  name: 'v4.14',
  release: '4.14.0',
  summary: 'reaper without mm_users pin; exit_mmap barrier only when current is the OOM victim',
  commits: [{ id: '212925802454', subject: 'mm: oom: let oom_reap_task and exit_mmap run concurrently' }],
  mm: {
    check_mm: check_mm_v4_13,
    check_stable_address_space: check_stable_address_space_v4_13,
    exit_mmap: exit_mmap_v4_14,
    __mmput: __mmput_v4_14,
    mark_oom_victim: mark_oom_victim_v4_14,
    wake_oom_reaper: wake_oom_reaper_v4_14,
    oom_reap_task: oom_reap_task_v4_13,
    oom_reap_task_mm: __oom_reap_task_mm_v4_14,
    __oom_reap_task_mm: notInEra('__oom_reap_task_mm(mm)'),
    process_mrelease: process_mrelease_enosys,
    lock_mm_and_find_vma: lock_mm_and_find_vma_v4_14,
    dup_mmap: dup_mmap_v4_14,
    unlock_range: unlock_range_v4_14,
  },
  vma: VMA_LIST_V4_14,
  mmf: {},
  rwsem: rwsem_v4_14,
  rcu: RCU_FLAVOURS_V4_14,
  config: X86_DISTRO_CONFIG,
  pgtableFree: x86_pgtable_free_v4_14,
};
