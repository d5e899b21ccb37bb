// `mmrace eras [--json]`: every era profile in release order, the commits that define it, and what
// it picks: the mm functions, the rw_semaphore, the RCU flavours, page-table freeing.
import type { Command } from 'commander';
import { type EraProfile, eraByName } from '../eras/index.js';
import * as rcuFlavours from '../kernel/rcu/flavour.js';
import * as mmuGather from '../mm/mmu_gather.js';
import { erasInReleaseOrder } from '../scenarios/era_matrix.js';
import { parseEras } from './era_matrix.js';

/** A set of era functions: the exported constant it is (null when built on the fly), each slot's function. */
export interface OpsSet {
  set: string | null;
  functions: Record<string, string>;
}

export interface EraListing {
  name: string;
  release: string;
  summary: string;
  commits: { id: string; subject: string }[];
  /** Slot -> the function the era fills it with (exit_mmap -> exit_mmap_v4_15). */
  mm: Record<string, string>;
  /** era.rwsem.name, and the kernel source it mirrors. */
  rwsem: string;
  rwsemSource: string;
  /** The VMA container's name (era.vma.name). */
  vma: string;
  rcu: OpsSet;
  /** The .config the era's scenarios run with. */
  config: Record<string, boolean>;
  /** How page tables are freed under that .config. */
  pgtableFree: OpsSet;
}

function functionNames(ops: object): Record<string, string> {
  return Object.fromEntries(
    Object.entries(ops).map(([slot, f]) => [
      slot,
      typeof f === 'function' ? f.name || '(anonymous)' : String(f),
    ]),
  );
}

/** The exported constant of `module` that `ops` is, by identity. */
function exportName(module: object, ops: object): string | null {
  return Object.entries(module).find(([, v]) => v === ops)?.[0] ?? null;
}

export function eraListing(era: EraProfile): EraListing {
  const tables = era.pgtableFree(era.config);
  return {
    name: era.name,
    release: era.release,
    summary: era.summary,
    commits: era.commits.map((c) => ({ id: c.id, subject: c.subject })),
    mm: functionNames(era.mm),
    rwsem: era.rwsem.name,
    rwsemSource: era.rwsem.source,
    vma: era.vma.name,
    rcu: { set: exportName(rcuFlavours, era.rcu), functions: functionNames(era.rcu) },
    config: { ...era.config },
    pgtableFree: { set: exportName(mmuGather, tables), functions: functionNames(tables) },
  };
}

/** exit_mmap_v4_14 names its slot; 'none' in the oom_reap_task_mm slot reads oom_reap_task_mm=none. */
function slotsText(fns: Record<string, string>): string {
  return Object.entries(fns)
    .map(([slot, f]) => (f.includes(slot.replace(/^_+/, '')) ? f : `${slot}=${f}`))
    .join(', ');
}

function opsText(o: OpsSet): string {
  const fns = [...new Set(Object.values(o.functions))].join(', ');
  return o.set ? `${o.set} (${fns})` : fns;
}

/** One block per era. */
export function erasText(list: readonly EraListing[]): string {
  const out: string[] = [];
  for (const e of list) {
    const config = Object.entries(e.config)
      .map(([k, v]) => `${k}=${v ? 'y' : 'n'}`)
      .join(' ');
    out.push(`${e.name}  ${e.release}  ${e.summary}`);
    e.commits.forEach((c, i) => {
      out.push(`  ${i === 0 ? 'commits ' : '        '}  ${c.id} ${c.subject}`);
    });
    if (e.commits.length === 0) out.push('  commits   (none)');
    out.push(`  mm        ${slotsText(e.mm)}`);
    out.push(`  rwsem     ${e.rwsem}`);
    out.push(`  vmas      ${e.vma}`);
    out.push(`  rcu       ${opsText(e.rcu)}`);
    out.push(`  pgtables  ${opsText(e.pgtableFree)}${config ? ` with ${config}` : ''}`);
    out.push('');
  }
  return out.join('\n');
}

export function erasCommand(program: Command): void {
  program
    .command('eras')
    .argument('[eras]', "only these eras: a comma-separated list ('v4.14,v4.15'), as --eras takes")
    .description(
      'list the era profiles in release order: defining commits, mm functions, rwsem, RCU, page tables',
    )
    .option('--json', 'print as JSON (an array, one object per era)')
    .action((names: string | undefined, o: { json?: boolean }) => {
      // parseEras accepted every name, 'v4.14+PARAVIRT=n' (the era with another .config) too.
      const eras =
        names === undefined ? erasInReleaseOrder() : parseEras(names, 'eras').map((n) => eraByName(n)!);
      const list = eras.map(eraListing);
      process.stdout.write(o.json ? `${JSON.stringify(list, null, 2)}\n` : erasText(list));
    });
}
