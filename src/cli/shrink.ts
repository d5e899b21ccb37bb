// --shrink: shrink the first failing schedule of each controlled-mode variant, and say so.

import type { Machine } from '../cpu/machine.js';
import type { VerdictRow } from '../report/verdict.js';
import type { VariantResult } from '../scenarios/campaign.js';
import type { Scenario, Variant } from '../scenarios/scenario.js';
import { shrinkSchedule } from '../scenarios/shrink.js';
import { UsageError } from './args.js';
import { replayCommand } from './replay_command.js';

export function checkShrinkFlags(shrink: boolean | undefined, mode: 'free' | 'controlled'): void {
  if (shrink && mode !== 'controlled')
    throw new UsageError('--shrink needs --mode controlled (a free run has no schedule to shrink)');
}

export async function shrinkRow(
  row: VerdictRow,
  machine: Machine,
  s: Scenario,
  v: Variant,
  r: VariantResult,
  url: string,
): Promise<void> {
  if (!r.schedule) return;
  const seed = r.firstHit?.seed ?? r.firstCheckFailure?.seed ?? r.seed;
  const k = await shrinkSchedule(machine, s, v, r.schedule, seed, url, undefined, r.points);
  row.shrunkSchedule = k.shrunk.schedule;
  row.shrink = {
    original: { steps: k.original.steps, switches: k.original.switches },
    shrunk: { steps: k.shrunk.steps, switches: k.shrunk.switches },
    tries: k.tries,
    verified: k.verified,
  };
}

export function shrinkLines(row: VerdictRow, command?: string, noLockdep = false): string[] {
  const k = row.shrink;
  if (!k || !row.shrunkSchedule) return [];
  return [
    `--- shrunk schedule (${k.shrunk.switches} context switches, ${k.shrunk.steps} decisions; the original had ` +
      `${k.original.switches} and ${k.original.steps}; ${k.tries} candidate runs; a strict replay ` +
      `${k.verified ? 'fails the same way' : 'did NOT fail the same way'}): ${row.shrunkSchedule}`,
    `    replay it: ${replayCommand(row, row.shrunkSchedule, command, noLockdep)}`,
  ];
}
