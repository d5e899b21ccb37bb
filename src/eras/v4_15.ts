// Linux v4.15 (and 4.14.y): 4837fe37adff "mm, oom_reaper: fix memory corruption" keys the
// exit_mmap barrier on the mm via MMF_OOM_VICTIM; the reaper gathers per VMA (687cb0884a71).
import { check_mm_v4_15 } from '../kernel/fork.js';
import { notInEra } from '../mm/era_ops.js';
import { exit_mmap_v4_15 } from '../mm/exit_mmap.js';
import { MMF_OOM_VICTIM_v4_15 } from '../mm/mm_types.js';
import { mark_oom_victim_v4_15 } from '../mm/oom_kill.js';
import { __oom_reap_task_mm_v4_15 } from '../mm/oom_reaper.js';
import type { EraProfile } from './profile.js';
import { v4_14 } from './v4_14.js';

export const v4_15: EraProfile = {
  ...v4_14,
  name: 'v4.15',
  release: '4.15.0',
  summary:
    'exit_mmap barrier keyed on mm_is_oom_victim(mm) (MMF_OOM_VICTIM); munlock still runs under the reaper (C1)',
  commits: [
    { id: '4837fe37adff', subject: 'mm, oom_reaper: fix memory corruption' },
    { id: '687cb0884a71', subject: 'mm, oom_reaper: gather each vma to prevent leaking TLB entry' },
  ],
  mm: {
    ...v4_14.mm,
    check_mm: check_mm_v4_15,
    exit_mmap: exit_mmap_v4_15,
    mark_oom_victim: mark_oom_victim_v4_15,
    oom_reap_task_mm: __oom_reap_task_mm_v4_15,
    __oom_reap_task_mm: notInEra('__oom_reap_task_mm(mm)'),
  },
  mmf: { MMF_OOM_VICTIM: MMF_OOM_VICTIM_v4_15 },
};
