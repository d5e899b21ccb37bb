// An era profile: which variant of each changed kernel function a kernel release runs.
import { installRwsem, type RwsemOps } from '../kernel/locking/rwsem_ops.js';
import { type RcuFlavourOps, rcuFlavour } from '../kernel/rcu/flavour.js';
import { utsname } from '../kernel/utsname.js';
import { type MmEraOps, type MmfBits, mmEraOps, mmfBits } from '../mm/era_ops.js';
import { type PgtableFreeOps, pgtableFreeOps } from '../mm/mmu_gather.js';
import { PPC64_PGTABLE, pgtableArch, X86_PGTABLE } from '../mm/pgtable_arch.js';
import { type VmaContainer, vmaContainer } from '../mm/vma_list.js';
import { NO_PER_VMA_LOCK, type VmaLockOps, vmaLockOps } from '../mm/vma_lock.js';
import type { KernelConfig } from './config.js';

export interface EraCommit {
  /** Abbreviated upstream hash, 12 digits as the kernel's Fixes: tags write it. */
  readonly id: string;
  readonly subject: string;
}

export interface EraProfile {
  /** The name users pass (--variant v4.14). */
  readonly name: string;
  /** utsname release printed in oops and BUG headers. */
  readonly release: string;
  readonly summary: string;
  /** The commits that define the era against the one before it (`mmrace eras`). */
  readonly commits: readonly EraCommit[];
  readonly mm: MmEraOps;
  /** The VMA container: the vm_next list to v6.0 (vma_list.ts), the maple tree from v6.1 (maple_tree.ts). */
  readonly vma: VmaContainer;
  /** The per-VMA lock generation (mm/vma_lock.ts); absent: no CONFIG_PER_VMA_LOCK. */
  readonly vmaLock?: VmaLockOps;
  /** The mm->flags bits whose numbers moved (MMF_OOM_VICTIM, MMF_OOM_REAP_QUEUED; kernel-mm.md §3.3). */
  readonly mmf: MmfBits;
  /** The rw_semaphore algorithm (kernel/locking/rwsem_ops.ts). */
  readonly rwsem: RwsemOps;
  /** RCU flavours: what synchronize_rcu() and synchronize_sched() wait for (kernel/rcu/flavour.ts). */
  readonly rcu: RcuFlavourOps;
  /** The .config the era's scenarios run with (config.ts; 'v4.14+PARAVIRT=n' picks another). */
  readonly config: KernelConfig;
  /** How page tables are freed for a given .config (mm/mmu_gather.ts; arch/x86/Kconfig). */
  readonly pgtableFree: (config: KernelConfig) => PgtableFreeOps;
}

/** Installs `era` on this thread (every CPU worker and the main thread apply the same one). */
export function applyEra(era: EraProfile): void {
  Object.assign(mmEraOps, era.mm);
  Object.assign(vmaContainer, era.vma);
  Object.assign(vmaLockOps, era.vmaLock ?? NO_PER_VMA_LOCK);
  mmfBits.bits = era.mmf;
  installRwsem(era.rwsem);
  Object.assign(rcuFlavour, era.rcu);
  Object.assign(pgtableFreeOps, era.pgtableFree(era.config));
  Object.assign(pgtableArch, era.config.PPC_BOOK3S_64 ? PPC64_PGTABLE : X86_PGTABLE);
  utsname.release = era.release;
}
