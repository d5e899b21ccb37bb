// Linux v4.15 (and 4.14.y): 4837fe37adff "mm, oom_reaper: fix memory corruption" keys the
// exit_mmap barrier on the mm via MMF_OOM_VICTIM.
import { exit_mmap_v4_15 } from '../mm/mmap.js';
import { mark_oom_victim_v4_15 } from '../mm/oom_kill.js';
import type { EraProfile } from './profile.js';

export const v4_15: EraProfile = {
  name: 'v4.15',
  release: '4.15.0',
  summary: 'exit_mmap barrier keyed on mm_is_oom_victim(mm) (MMF_OOM_VICTIM)',
  mm: { exit_mmap: exit_mmap_v4_15, mark_oom_victim: mark_oom_victim_v4_15 },
};
