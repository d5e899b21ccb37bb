// Linux v4.14: the OOM reaper pins only mm_count (212925802454); exit_mmap's barrier against it
// depends on tsk_is_oom_victim(current).
import { exit_mmap_v4_14 } from '../mm/mmap.js';
import { mark_oom_victim_v4_14 } from '../mm/oom_kill.js';
import type { EraProfile } from './profile.js';

export const v4_14: EraProfile = {
  name: 'v4.14',
  release: '4.14.0',
  summary: 'reaper without mm_users pin; exit_mmap barrier only when current is the OOM victim',
  mm: { exit_mmap: exit_mmap_v4_14, mark_oom_victim: mark_oom_victim_v4_14 },
};
