// The OOM-kill-and-process_mrelease(2) setting the two exit_mmap positive controls share: an OOM
// victim with populated anonymous mappings, the oom_reaper kthread, and lmkd holding a pidfd on the
// victim. Each entry keeps its own CPU programs (its points and waits); this holds what is the same.
import { cpuCtx } from '../cpu/context.js';
import { EINVAL, ENOSYS, ESRCH } from '../kernel/errno.js';
import { mm_alloc, spawnTask } from '../kernel/fork.js';
import { get_task_struct, put_task_struct } from '../kernel/sched.js';
import { process_mrelease } from '../mm/era_ops.js';
import { oom_init, oom_kill_process } from '../mm/oom_kill.js';
import { mem } from '../shm/arena.js';
import { defineStatics } from '../shm/statics.js';
import { populateAnon } from './populate.js';
import type { FinalCheck, Globals, Variant } from './scenario.js';

/** v5.15-rc1's process_mrelease tests MMF_OOM_SKIP, then task_will_free_mem() tests it again: -EINVAL. */
const EINVAL_RACE = ['v5.15-rc1'];

export interface LmkdMrelease {
  /** Builds the victim (its mm populated: `pagesPerVma` pages at each of `vmas`), lmkd and the reaper, then OOM-kills the victim. */
  setup(g: Globals, variant: Variant, vmas: readonly number[], pagesPerVma: number): void;
  /** lmkd's call: process_mrelease(pidfd of the victim, 0), then close(pidfd). */
  mrelease(victim: number): void;
  /** process_mrelease returned, with a value its era allows. */
  readonly check: FinalCheck;
}

/** `name` names the statics region (one per entry, so each entry's arena layout stays its own). */
export function lmkdMrelease(name: string): LmkdMrelease {
  const ST = defineStatics(name, ['ret', 'done', 'einval_ok']);
  const at = (f: 'ret' | 'done' | 'einval_ok'): number => ST.base() + ST.layout[f];
  return {
    setup(g, variant, vmas, pagesPerVma) {
      for (const f of ['ret', 'done', 'einval_ok'] as const) Atomics.store(mem.i32, at(f), 0);
      if (EINVAL_RACE.includes(variant.era)) Atomics.store(mem.i32, at('einval_ok'), 1);
      const reaper = spawnTask('oom_reaper', { kthread: true });
      oom_init(reaper);
      const mm = mm_alloc();
      const victim = spawnTask('victim', { mm });
      const lmkd = spawnTask('lmkd');
      cpuCtx.current = victim;
      populateAnon(mm, vmas, pagesPerVma);
      cpuCtx.current = 0;
      get_task_struct(victim); // lmkd's pidfd
      oom_kill_process(victim); // SIGKILL, mark_oom_victim(), the era's wake_oom_reaper()
      Object.assign(g, { reaper, victim, lmkd, mm });
    },
    mrelease(victim) {
      Atomics.store(mem.i32, at('ret'), process_mrelease(victim, 0));
      Atomics.store(mem.i32, at('done'), 1);
      put_task_struct(victim); // close(pidfd)
    },
    check: {
      name: 'process_mrelease returned 0, -ESRCH (no mm left) or -ENOSYS (before v5.15)',
      check: () => {
        const ret = Atomics.load(mem.i32, at('ret'));
        if (!Atomics.load(mem.i32, at('done'))) return 'process_mrelease did not return';
        const ok = [0, -ESRCH, -ENOSYS, ...(Atomics.load(mem.i32, at('einval_ok')) ? [-EINVAL] : [])];
        return ok.includes(ret) ? null : `process_mrelease returned ${ret}`;
      },
    },
  };
}
