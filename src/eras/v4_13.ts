// Linux v4.13: the OOM reaper pins mm_users (mmget_not_zero) and drops it with mmput_async(), so
// exit_mmap() cannot start under it and takes no lock; __mmput() sets MMF_OOM_SKIP afterwards.
import { __mmput_v4_13, check_mm_v4_13 } from '../kernel/fork.js';
import { rwsem_v4_14 } from '../kernel/locking/rwsem_xadd.js';
import { RCU_FLAVOURS_V4_14 } from '../kernel/rcu/flavour.js';
import { dup_mmap_v4_14 } from '../mm/dup_mmap.js';
import { notInEra } from '../mm/era_ops.js';
import { exit_mmap_v4_13 } from '../mm/exit_mmap.js';
import { lock_mm_and_find_vma_v4_14 } from '../mm/fault.js';
import { check_stable_address_space_none, check_stable_address_space_v4_13 } from '../mm/memory.js';
import { unlock_range_v4_14 } from '../mm/mmap.js';
import { mark_oom_victim_v4_14 } from '../mm/oom_kill.js';
import { __oom_reap_task_mm_v4_13, oom_reap_task_v4_13, wake_oom_reaper_v4_14 } from '../mm/oom_reaper.js';
import { process_mrelease_enosys } from '../mm/process_mrelease.js';
import { VMA_LIST_V4_14 } from '../mm/vma_list.js';
import { X86_DISTRO_CONFIG, x86_pgtable_free_direct } from './config.js';
import type { EraProfile } from './profile.js';

export const v4_13: EraProfile = {
  name: 'v4.13',
  release: '4.13.0',
  summary:
    'reaper pins mm_users (mmget_not_zero, mmput_async); exit_mmap without any lock; an mm whose users are gone (exit_aio) is skipped and hidden: the spurious second kill (A1)',
  commits: [
    { id: 'ec8d7c14ea14', subject: 'mm, oom_reaper: do not mmput synchronously from the oom reaper context' },
    {
      id: '6b31d5955cb2',
      subject: 'mm, oom: fix potential data corruption when oom_reaper races with writer',
    },
  ],
  mm: {
    check_mm: check_mm_v4_13,
    check_stable_address_space: check_stable_address_space_v4_13,
    exit_mmap: exit_mmap_v4_13,
    __mmput: __mmput_v4_13,
    mark_oom_victim: mark_oom_victim_v4_14,
    wake_oom_reaper: wake_oom_reaper_v4_14,
    oom_reap_task: oom_reap_task_v4_13,
    oom_reap_task_mm: __oom_reap_task_mm_v4_13,
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
  // arch/x86/Kconfig v4.13: x86 selects HAVE_RCU_TABLE_FREE only from v4.14 (9e52fc2b50de), so
  // page tables are freed with the pages at tlb_finish_mmu(), PARAVIRT or not.
  pgtableFree: x86_pgtable_free_direct,
};

/** v4.13 before 6b31d5955cb2 (merged for -rc5): faults do not check MMF_UNSTABLE (not in the era matrix). */
export const v4_13_rc4: EraProfile = {
  ...v4_13,
  name: 'v4.13-rc4',
  release: '4.13.0-rc4',
  summary: `${v4_13.summary}; HAZARD: no check_stable_address_space(), a fault repopulates what the reaper zapped`,
  commits: v4_13.commits.filter((c) => c.id !== '6b31d5955cb2'),
  mm: { ...v4_13.mm, check_stable_address_space: check_stable_address_space_none },
};
