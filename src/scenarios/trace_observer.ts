// --trace: the CPUs record into their trace rings while armed; the first failing run's snapshot
// is kept (later runs are not recorded), else each run replaces the last.
import { AbortReason } from '../cpu/control.js';
import { traceArm, traceSnapshot } from '../cpu/trace_buffer.js';
import type { RunObserver } from './run_observer.js';
import type { VariantResult } from './variant_result.js';

export function traceObserver(ncpus: number, mode: 'free' | 'controlled', res: VariantResult): RunObserver {
  let kept = false;
  return {
    beforeRun() {
      traceArm(!kept, mode);
    },
    afterRun(v) {
      if (kept) return;
      const o = v.outcome;
      const check = v.failedCheck ? `final check '${v.failedCheck.name}'` : null;
      res.trace = {
        run: o.run,
        seed: v.seed,
        failed: v.failed,
        summary: v.hitLine ?? (o.abort === AbortReason.Oops ? 'Oops' : check),
        notes: v.deadlock,
        snapshot: traceSnapshot(ncpus),
      };
      kept = v.failed;
    },
    end() {
      traceArm(false, mode);
    },
  };
}
