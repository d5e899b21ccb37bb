// Linux v5.15: process_mrelease(2) pins mm_users (337546e83fc7, merged before the release), so
// exit_mmap cannot start while it reaps; exit_mmap is still v4.17's.
import { process_mrelease_v5_15 } from '../mm/process_mrelease.js';
import type { EraProfile } from './profile.js';
import { v5_15_rc1 } from './v5_15_rc1.js';

export const v5_15: EraProfile = {
  ...v5_15_rc1,
  name: 'v5.15',
  release: '5.15.0',
  summary:
    "process_mrelease(2) pins mm_users (mmget_not_zero/mmput): exit_mmap waits for it by not starting, and the syscall may run __mmput itself. rw_semaphore: v6.1's stands in for v5.15's (no handoff_set before v5.16)",
  commits: [
    {
      id: '337546e83fc7',
      subject: 'mm/oom_kill.c: prevent a race between process_mrelease and exit_mmap',
    },
  ],
  mm: {
    ...v5_15_rc1.mm,
    process_mrelease: process_mrelease_v5_15,
  },
};
