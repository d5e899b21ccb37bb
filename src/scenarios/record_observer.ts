// --record: every free run records the global order of its points (cpu/record.ts); the campaign
// keeps the recordings of its first `cap` failing runs for controlled replay.
import { recordCollect, recordEnable, recordReset } from '../cpu/record.js';
import type { RunObserver } from './run_observer.js';
import type { FailedRecording } from './variant_result.js';

export function recordObserver(ncpus: number, cap: number, kept: FailedRecording[]): RunObserver {
  recordEnable(true);
  return {
    beforeRun() {
      recordReset(ncpus);
    },
    afterRun(v) {
      if (!v.failed || kept.length >= cap) return;
      kept.push({
        run: v.outcome.run,
        seed: v.seed,
        hit: v.failedCheck ? null : (v.hitLine ?? 'Oops'),
        check: v.failedCheck,
        recording: recordCollect(ncpus),
      });
    },
    end() {
      recordEnable(false);
    },
  };
}
