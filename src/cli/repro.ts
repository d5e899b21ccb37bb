// Running scenarios from the command line: the verdict table, one scenario, a user's file.
import { MAX_CPUS } from '../cpu/control.js';
import { lockStatClear } from '../kernel/locking/lock_stat.js';
import { lockStatText } from '../kernel/locking/lockdep_proc.js';
import { lock_stat_enable, lockdep_enable } from '../kernel/locking/lockdep_state.js';
import { JSON_SCHEMA_VERSION, renderTable, toRow, type VerdictRow } from '../report/verdict.js';
import { runVariant, sharedMachine } from '../scenarios/campaign.js';
import { BUILTIN, type CatalogueEntry } from '../scenarios/catalogue.js';
import { UsageError } from './args.js';

export interface ReproOptions {
  variant?: string;
  runs?: number;
  seed?: number;
  cpus?: number;
  json?: boolean;
  dmesg?: boolean;
  lockdep?: boolean;
  lockStat?: boolean;
}

export const DEFAULT_RUNS = 200;

export interface ReproOutcome {
  rows: VerdictRow[];
  /** /proc/lock_stat after the runs, with --lock-stat. */
  lockStat?: string;
  /** 0 every verdict matches, 1 one does not, 3 a CPU crashed or a run hung. */
  code: number;
}

export async function runEntries(entries: readonly CatalogueEntry[], o: ReproOptions): Promise<ReproOutcome> {
  for (const e of entries) {
    const need = e.scenario.cpus.length;
    if (o.cpus !== undefined && o.cpus < need) {
      throw new UsageError(`scenario ${e.scenario.id} needs ${need} CPUs, --cpus is ${o.cpus}`);
    }
    if (need > MAX_CPUS)
      throw new UsageError(`scenario ${e.scenario.id} needs ${need} CPUs; at most ${MAX_CPUS}`);
    if (o.variant && !e.scenario.variants.some((v) => v.name === o.variant)) {
      const names = e.scenario.variants.map((v) => v.name).join(', ');
      throw new UsageError(`scenario ${e.scenario.id} has no variant '${o.variant}' (variants: ${names})`);
    }
  }
  const machine = sharedMachine();
  machine.attach();
  lockdep_enable(o.lockdep === true);
  lock_stat_enable(o.lockStat === true);
  if (o.lockStat) lockStatClear();
  const rows: VerdictRow[] = [];
  const seed = o.seed ?? 1;
  for (const e of entries) {
    for (const v of e.scenario.variants) {
      if (o.variant && v.name !== o.variant) continue;
      const r = await runVariant(machine, e.scenario, v, { runs: o.runs ?? DEFAULT_RUNS, seed }, e.url);
      rows.push(toRow(r));
    }
  }
  const lockStat = o.lockStat ? lockStatText() : undefined;
  const code = rows.some((r) => r.error) ? 3 : rows.every((r) => r.ok) ? 0 : 1;
  return { rows, code, ...(lockStat ? { lockStat } : {}) };
}

export function printOutcome(out: ReproOutcome, o: ReproOptions, color: boolean): void {
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify({ schema: JSON_SCHEMA_VERSION, ok: out.code === 0, rows: out.rows, lockStat: out.lockStat }, null, 2)}\n`,
    );
    return;
  }
  const lines = [renderTable(out.rows, color)];
  for (const r of out.rows) {
    if (r.error) lines.push('', `${r.id} ${r.variant}: ${r.error}`);
    const showDmesg = o.dmesg ?? out.rows.length === 1;
    if (r.firstHit && showDmesg) {
      lines.push(
        '',
        `--- first hit: run ${r.firstHit.run}, jitter seed ${r.firstHit.seed} (--seed ${r.firstHit.seed} injects the same jitter again; in free mode timing still decides)`,
      );
      lines.push(...r.firstHit.dmesg);
    }
    if (r.firstCheckFailure) {
      const f = r.firstCheckFailure;
      lines.push('', `--- final check '${f.check}' failed in run ${f.run} (seed ${f.seed}): ${f.detail}`);
    }
  }
  if (out.lockStat) lines.push('', out.lockStat);
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function builtinEntries(): readonly CatalogueEntry[] {
  return BUILTIN;
}
