// mmrace's public API: what scenario files and embedding programs use. Scenario code calls the
// emulated kernel by its kernel names; the machinery around it uses camelCase.

// Scenarios and campaigns
export {
  type CheckContext,
  defineScenario,
  type FinalCheck,
  type Globals,
  type Scenario,
  type ScenarioCpu,
  type Variant,
  type Verdict,
} from './scenarios/scenario.js';
export {
  type CampaignOptions,
  isDetectorLine,
  runVariant,
  sharedMachine,
  shutdownMachine,
  type VariantResult,
} from './scenarios/campaign.js';
export { BUILTIN, findScenario, loadScenarioFile } from './scenarios/catalogue.js';
export { DEFAULT_PAGES, kernelReset, machineRegions } from './scenarios/kernel_image.js';
export { Machine } from './cpu/machine.js';
export type { JitterConfig } from './cpu/jitter.js';
export { applyEra, ERAS, type EraProfile, eraByName } from './eras/index.js';
export { renderDmesg } from './report/dmesg.js';
export { logRead } from './cpu/logring.js';

// CPUs
export { cpuCtx, point, smp_processor_id } from './cpu/context.js';
export { KernelOops } from './cpu/errors.js';
export { mem } from './shm/arena.js';
export { defineStruct } from './shm/layout.js';
export { defineStatics } from './shm/statics.js';

// Kernel core
export * from './kernel/bitops.js';
export * from './kernel/locking/rwsem.js';
export * from './kernel/locking/spinlock.js';
export { die, dump_stack, WARN, WARN_ON_ONCE, add_taint } from './kernel/panic.js';
export * from './kernel/printk.js';
export * from './kernel/sched.js';
export * from './kernel/task_struct.js';
export { HZ, jiffies, time_after } from './kernel/time.js';
export { kthread_should_stop, kthread_stop } from './kernel/kthread.js';
export { init_waitqueue_head, wait_event_interruptible, wake_up, WAIT_QUEUE_HEAD_WORDS } from './kernel/wait.js';
export { check_mm, mm_alloc, mmdrop, mmget, mmget_not_zero, mmgrab, mmput, spawnTask } from './kernel/fork.js';
export { do_exit, exit_mm } from './kernel/exit.js';

// mm
export { kread, kwrite, kxchg } from './mm/kasan.js';
export { kmem_cache_alloc, kmem_cache_create, kmem_cache_free, type KmemCache } from './mm/slab.js';
export { alloc_page, nr_free_pages, nr_pages, put_page, GFP_KERNEL, __GFP_ZERO } from './mm/page_alloc.js';
export * from './mm/mm_types.js';
export { exit_mmap, mark_oom_victim } from './mm/era_ops.js';
export { __do_page_fault } from './mm/fault.js';
export { __access_remote_vm, get_user_page_remote } from './mm/gup.js';
export {
  add_mm_counter,
  FAULT_FLAG_WRITE,
  free_pgtables,
  get_mm_counter,
  handle_mm_fault,
  unmap_page_range,
  unmap_vmas,
} from './mm/memory.js';
export { find_vma, mmap_anon_fixed, remove_vma } from './mm/mmap.js';
export { tlb_finish_mmu, tlb_gather_mmu } from './mm/mmu_gather.js';
export { oom_init, oom_kill_process, oom_reaper, oom_reap_task } from './mm/oom_kill.js';
