// A deadlock found in controlled mode with lockdep off names only the last reader of an rwsem:
// replay its schedule once with lockdep on (lockdep adds no scheduling decisions, so the replay is
// exact) and take that report, which names every holder and every held lock.
import type { PointGranularity } from '../cpu/granularity.js';
import type { Machine } from '../cpu/machine.js';
import { lockdep_enable, lockdepEnabled } from '../kernel/locking/lockdep_state.js';
import type { CampaignOptions } from './campaign.js';
import type { Scenario, Variant } from './scenario.js';
import type { RunHit, VariantResult } from './variant_result.js';

type RunVariant = (
  machine: Machine,
  s: Scenario,
  variant: Variant,
  opts: CampaignOptions,
  moduleUrl: string,
) => Promise<VariantResult>;

export function wantsDeadlockReplay(res: VariantResult, opts: CampaignOptions): boolean {
  return (
    (opts.deadlockReportWithLockdep ?? true) &&
    res.mode === 'controlled' &&
    res.schedule !== null &&
    res.firstHit?.summary.startsWith('INFO: deadlock') === true
  );
}

export async function deadlockWithLockdep(
  runVariant: RunVariant,
  machine: Machine,
  s: Scenario,
  variant: Variant,
  hit: RunHit,
  schedule: string,
  moduleUrl: string,
  points: PointGranularity,
): Promise<void> {
  machine.attach();
  if (lockdepEnabled()) return;
  lockdep_enable(true);
  try {
    const again = await runVariant(
      machine,
      s,
      variant,
      { runs: 1, seed: hit.seed, mode: 'controlled', strategy: { name: 'replay', schedule }, points },
      moduleUrl,
    );
    // With lockdep on, an AB-BA also gets lockdep's circular-dependency splat first: keep it.
    const log = again.firstHit?.log;
    if (log?.some((r) => r.text === hit.summary)) hit.log = log;
  } finally {
    machine.attach();
    lockdep_enable(false);
  }
}
