// A controlled run's first hit replayed once for its full report (lockdep adds no scheduling
// decisions, so the replay is exact): a deadlock found with lockdep off names only the last reader
// of an rwsem, so it is replayed with lockdep on, which names every holder and every held lock;
// and a campaign whose CPUs left lockdep's sites to the replay (lazy sites: no stack capture per
// acquisition) replays a report that printed one, with every site and trace captured.
import type { PointGranularity } from '../cpu/granularity.js';
import type { Machine } from '../cpu/machine.js';
import { hasLazySite } from '../kernel/locking/lockdep_ip.js';
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

/** May this campaign's CPUs leave lockdep's sites to the replay? (--trace keeps its runs' notes as printed.) */
export function lazyLockdepSites(opts: CampaignOptions): boolean {
  return opts.mode === 'controlled' && (opts.replayForReport ?? true) && opts.trace !== true;
}

export function wantsReportReplay(res: VariantResult, opts: CampaignOptions): boolean {
  const hit = res.firstHit;
  if (!(opts.replayForReport ?? true) || res.mode !== 'controlled' || res.schedule === null || !hit)
    return false;
  if (hit.log.some((r) => hasLazySite(r.text))) return true;
  return hit.summary.startsWith('INFO: deadlock') && !lockdepEnabled();
}

export async function replayForReport(
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
  const wasOn = lockdepEnabled();
  lockdep_enable(true);
  try {
    const again = await runVariant(
      machine,
      s,
      variant,
      {
        runs: 1,
        seed: hit.seed,
        mode: 'controlled',
        strategy: { name: 'replay', schedule },
        points,
        replayForReport: false,
      },
      moduleUrl,
    );
    // With lockdep on, an AB-BA also gets lockdep's circular-dependency splat first: keep it.
    const log = again.firstHit?.log;
    if (log?.some((r) => r.text === hit.summary)) hit.log = log;
  } finally {
    machine.attach();
    lockdep_enable(wasOn);
  }
}
