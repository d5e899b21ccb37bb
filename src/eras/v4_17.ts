// Linux v4.17 (to v4.20 in what is modelled): a victim's exit_mmap reaps its own mm, sets
// MMF_OOM_SKIP and waits out the reaper before it munlocks (27ae357fa82b, CVE-2018-1000200).
import { exit_mmap_v4_17 } from '../mm/exit_mmap.js';
import { __oom_reap_task_mm_v4_17, oom_reap_task_mm_v4_17, oom_reap_task_v4_17 } from '../mm/oom_reaper.js';
import type { EraProfile } from './profile.js';
import { v4_15 } from './v4_15.js';

export const v4_17: EraProfile = {
  ...v4_15,
  name: 'v4.17',
  release: '4.17.0',
  summary:
    "a victim's exit_mmap self-reaps (__oom_reap_task_mm(mm)), sets MMF_OOM_SKIP and takes the write-lock barrier before munlock; the reaper's per-task queueing test still misses the tail (Q1)",
  commits: [{ id: '27ae357fa82b', subject: 'mm, oom: fix concurrent munlock and oom reaper unmap, v3' }],
  mm: {
    ...v4_15.mm,
    exit_mmap: exit_mmap_v4_17,
    oom_reap_task: oom_reap_task_v4_17,
    oom_reap_task_mm: oom_reap_task_mm_v4_17,
    __oom_reap_task_mm: __oom_reap_task_mm_v4_17,
  },
};
