// Building a strategy from its command-line configuration.
import { decodeSchedule } from '../schedule.js';
import type { Strategy } from '../strategy.js';
import { DfsStrategy } from './dfs.js';
import { PctStrategy } from './pct.js';
import { RandomStrategy } from './random.js';
import { ReplayStrategy } from './replay.js';
import { RoundRobinStrategy } from './roundrobin.js';

export const STRATEGY_NAMES = ['random', 'pct', 'dfs', 'replay', 'roundrobin'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

export interface StrategyConfig {
  name: StrategyName;
  /** pct: the bug depth d (default 2). */
  depth?: number;
  /** dfs: the preemption bound k (default 2). */
  preemptions?: number;
  /** replay: the schedule string (throws ScheduleError when malformed). */
  schedule?: string;
}

export function makeStrategy(cfg: StrategyConfig): Strategy {
  switch (cfg.name) {
    case 'random':
      return new RandomStrategy();
    case 'roundrobin':
      return new RoundRobinStrategy();
    case 'pct':
      return new PctStrategy(cfg.depth ?? 2);
    case 'dfs':
      return new DfsStrategy(cfg.preemptions ?? 2);
    case 'replay':
      if (cfg.schedule === undefined) throw new RangeError('replay: a schedule string is needed');
      return new ReplayStrategy(decodeSchedule(cfg.schedule));
  }
}
