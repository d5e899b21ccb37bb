// Building a strategy from its command-line configuration.

import type { RecordedEvent } from '../record.js';
import { decodeSchedule } from '../schedule.js';
import type { Strategy } from '../strategy.js';
import { DfsStrategy } from './dfs.js';
import { controlBlockProbe, type FollowOptions, FollowStrategy } from './follow.js';
import { PctStrategy } from './pct.js';
import { RandomStrategy } from './random.js';
import { type OnDivergence, ReplayStrategy } from './replay.js';
import { RoundRobinStrategy } from './roundrobin.js';
import type { Shard } from './shard.js';

export const STRATEGY_NAMES = ['random', 'pct', 'dfs', 'replay', 'roundrobin'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

export interface StrategyConfig {
  /** 'follow' is internal (--record's replay of a free run), not a --strategy choice. */
  name: StrategyName | 'follow';
  /** pct: the bug depth d (default 2). */
  depth?: number;
  /** dfs: the preemption bound k (default 2). */
  preemptions?: number;
  /** replay: the schedule string (throws ScheduleError when malformed). */
  schedule?: string;
  /** replay: what to do when the run leaves the schedule (default: stop and report it). */
  onDivergence?: OnDivergence;
  /** follow: the free run's recorded events, in stamp order. */
  recorded?: readonly RecordedEvent[];
  /** follow: hand-back options (default: probe the control block). */
  follow?: FollowOptions;
  /** --shard: dfs explores only this shard's subtrees; pct learns its step bound from run 0 only. */
  shard?: Shard;
}

export function makeStrategy(cfg: StrategyConfig): Strategy {
  switch (cfg.name) {
    case 'random':
      return new RandomStrategy();
    case 'roundrobin':
      return new RoundRobinStrategy();
    case 'pct':
      return new PctStrategy(cfg.depth ?? 2, 64, cfg.shard !== undefined);
    case 'dfs':
      return new DfsStrategy(cfg.preemptions ?? 2, cfg.shard);
    case 'replay':
      if (cfg.schedule === undefined) throw new RangeError('replay: a schedule string is needed');
      return new ReplayStrategy(decodeSchedule(cfg.schedule), cfg.onDivergence);
    case 'follow': {
      if (cfg.recorded === undefined) throw new RangeError('follow: a recording is needed');
      return new FollowStrategy(cfg.recorded, { probe: controlBlockProbe, ...cfg.follow });
    }
  }
}
