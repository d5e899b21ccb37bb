// --trace <file>: where the Chrome trace of each variant goes, and writing it.
import { closeSync, existsSync, openSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { toChromeTrace } from '../report/trace.js';
import { checkChromeTrace } from '../report/trace_check.js';
import { lockNamer } from '../report/trace_locks.js';
import type { VariantResult } from '../scenarios/campaign.js';
import type { Scenario } from '../scenarios/scenario.js';
import { mem } from '../shm/arena.js';
import { UsageError } from './args.js';

/** Fails (exit 2) before any run when `file` cannot be written: tried for real, as root passes access(). */
export function checkTracePath(file: string): void {
  if (file === '') throw new UsageError('--trace needs a file name');
  const p = resolve(file);
  const dir = dirname(p);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(`--trace ${file}: directory ${dir} does not exist`);
  if (existsSync(p) && statSync(p).isDirectory()) throw new UsageError(`--trace ${file} is a directory`);
  const existed = existsSync(p);
  try {
    closeSync(openSync(p, existed ? 'r+' : 'wx'));
    if (!existed) unlinkSync(p);
  } catch (e) {
    throw new UsageError(`--trace ${file}: cannot be written (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
}

/**
 * The file for one variant: `file` itself when only one variant runs; otherwise the variant's
 * name (and the scenario id, when several scenarios run) goes before the extension:
 * out.json -> out.v4.14.json, out.oom-reaper-vs-exit-mmap-2017.v4.14.json.
 */
export function tracePathFor(
  file: string,
  id: string,
  variant: string,
  several: { scenarios: boolean; variants: boolean },
): string {
  if (!several.scenarios && !several.variants) return file;
  const ext = extname(file);
  const stem = ext ? file.slice(0, -ext.length) : file;
  const safe = (s: string) => s.replace(/[^\w.+-]+/g, '_');
  const tag = several.scenarios ? `${safe(id)}.${safe(variant)}` : safe(variant);
  return join(dirname(stem), `${basename(stem)}.${tag}${ext || '.json'}`);
}

export interface TraceWritten {
  id: string;
  variant: string;
  file: string;
  run: number;
  failed: boolean;
  summary: string | null;
  events: number;
  counts: { functions: number; locks: number; waits: number; flows: number; marks: number };
  droppedRecords: number;
  repaired: number;
}

/** Converts the variant's traced run (main thread, arena still attached) and writes it. */
export function writeVariantTrace(file: string, s: Scenario, r: VariantResult): TraceWritten | null {
  const t = r.trace;
  if (!t) return null;
  const out = toChromeTrace(t.snapshot, {
    lockName: lockNamer(mem.arena),
    notes: t.notes,
    meta: {
      scenario: r.id,
      variant: r.variant,
      era: r.era,
      run: t.run,
      seed: t.seed,
      failed: t.failed,
      summary: t.summary,
      strategy: r.strategy,
      schedule: t.failed ? r.schedule : null,
      cpus: s.cpus.map((c, i) => `CPU${i}: ${c.name}`).join(', '),
    },
  });
  const { stats, ...trace } = out;
  const { problems } = checkChromeTrace(trace);
  if (problems.length > 0)
    throw new Error(`internal error: the trace is malformed: ${problems.slice(0, 3).join('; ')}`);
  try {
    writeFileSync(file, `${JSON.stringify(trace)}\n`);
  } catch (e) {
    throw new UsageError(`--trace ${file}: ${(e as Error).message}`);
  }
  return {
    id: r.id,
    variant: r.variant,
    file,
    run: t.run,
    failed: t.failed,
    summary: t.summary,
    events: trace.traceEvents.length,
    counts: {
      functions: stats.functions,
      locks: stats.locks,
      waits: stats.waits,
      flows: stats.flows,
      marks: stats.marks,
    },
    droppedRecords: stats.dropped,
    repaired: stats.repaired.length,
  };
}
