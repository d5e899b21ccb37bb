// One shard of a campaign (`--shard i/n`, cpu/strategies/shard.ts): which runs it makes, and the
// probe run some strategies need first. A shard of a free, random or PCT campaign runs its block
// of the unsharded runs, each with its unsharded seed; a DFS shard explores its subtrees (dfs.ts).
// The probe is the campaign's run 0, run only to learn the campaign's shape and not counted: DFS's
// spine (every shard but the first), PCT's step bound (every shard whose block does not start at
// run 0).
import type { CampaignHooks, CampaignResult, CampaignSpec, Machine } from '../cpu/machine.js';
import { type Shard, shardBlock } from '../cpu/strategies/shard.js';

export interface ShardPlan {
  /** Run the campaign's run 0 first, uncounted. */
  probe: boolean;
  /** The unsharded index of the shard's first run (its seed: the campaign seed + first). */
  first: number;
  /** Runs to make (dfs: the cap; it ends when the shard's subtrees are explored). */
  runs: number;
}

/** The runs of `shard` (none: the whole campaign) of a campaign of `runs` runs. */
export function shardPlan(runs: number, shard: Shard | undefined, strategy: string | null): ShardPlan {
  if (!shard) return { probe: false, first: 0, runs };
  if (strategy === 'dfs') return { probe: shard.index !== 1, first: 0, runs };
  const block = shardBlock(runs, shard);
  return { probe: strategy === 'pct' && block.first > 0 && block.runs > 0, ...block };
}

/** What the campaign's hooks need to know about the run in progress (campaign.ts). */
export interface ShardPhase {
  /** Added to the machine's run index: the unsharded run's index. */
  offset: number;
  /** The run is the probe: not graded, not counted. */
  probing: boolean;
  /** The strategy's answer after the last run (false: nothing left to explore). */
  more: boolean;
}

/** The probe (if any), then the shard's runs, with their unsharded seeds. */
export async function runPlan(
  machine: Machine,
  spec: CampaignSpec,
  hooks: CampaignHooks,
  plan: ShardPlan,
  phase: ShardPhase,
): Promise<CampaignResult> {
  if (plan.probe) {
    phase.probing = true;
    const p = await machine.campaign({ ...spec, runs: 1 }, hooks);
    phase.probing = false;
    if (p.crash || p.timedOut) return { ...p, runs: 0 };
  }
  if (plan.runs === 0 || !phase.more) return { runs: 0, wallMs: 0 };
  phase.offset = plan.first;
  const r = await machine.campaign({ ...spec, runs: plan.runs, seed: (spec.seed + plan.first) >>> 0 }, hooks);
  return r.timedOut ? { ...r, timedOut: { ...r.timedOut, run: r.timedOut.run + plan.first } } : r;
}

/** The campaign a shard belongs to: every shard of it must say the same (mmrace merge checks). */
export interface ShardCampaign {
  seed: number;
  /** The unsharded campaign's runs (dfs: its cap on schedules). */
  runs: number;
  mode: 'free' | 'controlled';
  strategy: string | null;
  depth: number | null;
  preemptions: number | null;
  points: 'coarse' | 'atomic';
}

/** What one shard ran, in its `--json` rows: what `mmrace merge` needs. */
export interface ShardInfo {
  index: number;
  count: number;
  /** runs: a block of the unsharded runs, each with its seed; dfs: subtrees of the DFS tree. */
  split: 'runs' | 'dfs';
  campaign: ShardCampaign;
  /** split 'runs': the unsharded runs made, first..last, and their seeds (null: none). */
  block: { first: number; last: number; seeds: { first: number; last: number } } | null;
  /** Uncounted runs made to learn the campaign's shape (dfs's spine, pct's step bound). */
  probeRuns: number;
  /** dfs: every schedule of the shard's subtrees was run (false: the --runs cap came first). */
  exhausted?: boolean;
}

export function shardInfo(
  shard: Shard,
  campaign: ShardCampaign,
  ran: { runs: number; error: unknown },
): ShardInfo {
  const plan = shardPlan(campaign.runs, shard, campaign.strategy);
  const base = { ...shard, campaign, probeRuns: plan.probe ? 1 : 0 };
  if (campaign.strategy === 'dfs')
    return { ...base, split: 'dfs', block: null, exhausted: ran.runs < campaign.runs && ran.error === null };
  const last = plan.first + plan.runs - 1;
  const seeds = { first: (campaign.seed + plan.first) >>> 0, last: (campaign.seed + last) >>> 0 };
  return { ...base, split: 'runs', block: plan.runs > 0 ? { first: plan.first, last, seeds } : null };
}
