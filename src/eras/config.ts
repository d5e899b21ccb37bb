// The kernel .config options that change what the emulated kernel does. An era profile carries
// the configuration its scenarios run by default; a variant picks another one through the era
// name: 'v4.14+PARAVIRT=n' is v4.14 built with CONFIG_PARAVIRT=n.
import { type PgtableFreeOps, RCU_TABLE_FREE_V4_14, TLB_REMOVE_PAGE_TABLES } from '../mm/mmu_gather.js';
import type { EraProfile } from './profile.js';

export interface KernelConfig {
  /**
   * CONFIG_PARAVIRT. On x86 from v4.14 it selects HAVE_RCU_TABLE_FREE (9e52fc2b50de): page tables
   * are freed after an RCU-sched grace period (mm/mmu_gather.ts). Distribution kernels set it.
   */
  readonly PARAVIRT: boolean;
  /**
   * CONFIG_PPC_BOOK3S_64: powerpc book3s64's pmd_bad() and PTE-lock pointer in the page-table walk
   * of follow_page_pte() (mm/pgtable_arch.ts), where the C1 oops was seen; the rest of the machine
   * stays x86 PAE. ppc64 frees page tables through RCU (HAVE_RCU_TABLE_FREE) as PARAVIRT=y does.
   */
  readonly PPC_BOOK3S_64: boolean;
}

/** x86 as distributions built it. */
export const X86_DISTRO_CONFIG: KernelConfig = { PARAVIRT: true, PPC_BOOK3S_64: false };

const OPTION = /^([A-Z][A-Z0-9_]*)=([yn])$/;

/** `era` built with `patch` on top of its .config; the name says what changed. */
export function withConfig(era: EraProfile, patch: Partial<KernelConfig>): EraProfile {
  const suffix = Object.entries(patch)
    .map(([k, v]) => `+${k}=${v ? 'y' : 'n'}`)
    .join('');
  return { ...era, name: era.name + suffix, config: { ...era.config, ...patch } };
}

/**
 * Splits 'v4.14+PARAVIRT=n+...' into the era's name and the options; undefined when `name` has no
 * option or an option the emulator does not know.
 */
export function parseConfigName(name: string): { era: string; patch: Partial<KernelConfig> } | undefined {
  const [era, ...opts] = name.split('+');
  if (!era || opts.length === 0) return undefined;
  const patch: Record<string, boolean> = {};
  for (const o of opts) {
    const m = OPTION.exec(o);
    if (!m || !(m[1]! in X86_DISTRO_CONFIG)) return undefined;
    patch[m[1]!] = m[2] === 'y';
  }
  return { era, patch: patch as Partial<KernelConfig> };
}

// arch/x86/Kconfig v4.14-v4.18: select HAVE_RCU_TABLE_FREE if PARAVIRT (9e52fc2b50de).
export const x86_pgtable_free_v4_14 = (c: KernelConfig): PgtableFreeOps =>
  c.PARAVIRT ? RCU_TABLE_FREE_V4_14 : TLB_REMOVE_PAGE_TABLES;

// arch/x86 before v4.14, and bare metal since 48a8b97cfd80 (v4.19): tables go with the pages
// (KVM, Xen and Hyper-V guests that free them through RCU are not modelled).
export const x86_pgtable_free_direct = (): PgtableFreeOps => TLB_REMOVE_PAGE_TABLES;
