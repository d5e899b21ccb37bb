// mmrace's public API: what scenario files and embedding programs use. Scenario code calls the
// emulated kernel by its kernel names; the machinery around it uses camelCase.

// CPUs
export { cpuCtx, point, smp_processor_id } from './cpu/context.js';
export { ControlledRunner } from './cpu/controlled.js';
export { Decider } from './cpu/decider.js';
export { KernelOops } from './cpu/errors.js';
export type { JitterConfig } from './cpu/jitter.js';
export { logRead } from './cpu/logring.js';
export { Machine } from './cpu/machine.js';
export { decodeSchedule, encodeSchedule, type Schedule, ScheduleError } from './cpu/schedule.js';
export {
  makeStrategy,
  STRATEGY_NAMES,
  type StrategyConfig,
  type StrategyName,
} from './cpu/strategies/index.js';
export type { RunEnd, Strategy } from './cpu/strategy.js';
export { applyEra, ERAS, type EraProfile, eraByName, HAZARD_ERAS } from './eras/index.js';
// Kernel core
export * from './kernel/bitops.js';
export { EACCES, EAGAIN, EBADF, EFAULT, EINVAL, ENOMEM, ENOSYS, EPERM, ESRCH } from './kernel/errno.js';
export { do_exit, exit_mm } from './kernel/exit.js';
export {
  mm_alloc,
  mm_cachep,
  mmdrop,
  mmget,
  mmget_not_zero,
  mmgrab,
  mmput,
  signal_cachep,
  spawnTask,
  task_struct_cachep,
} from './kernel/fork.js';
export { kthread_should_stop, kthread_stop } from './kernel/kthread.js';
// lockdep and lock_stat (both off by default in the API; the command turns lockdep on for
// controlled mode)
export * from './kernel/locking/lock_stat.js';
export {
  LOCK_STATE_HELD,
  LOCK_STATE_NOT_HELD,
  LOCK_STATE_UNKNOWN,
  lock_is_held_type,
  lockdep_assert_held,
  lockdep_assert_held_read,
  lockdep_assert_held_write,
  lockdepReset,
  rwsem_release,
  SINGLE_DEPTH_NESTING,
} from './kernel/locking/lockdep.js';
// lockdep's self-check of its per-thread site tables (each answer compared with the formatted
// stack) and their counters: for checking the tables on a build, such as the bundle.
export { siteTableStats } from './kernel/locking/lockdep_ip.js';
export { lockStatText } from './kernel/locking/lockdep_proc.js';
export {
  lock_stat_enable,
  lockdep_enable,
  lockdep_site_check,
  lockdepEnabled,
  lockdepSiteMismatches,
  lockStatEnabled,
} from './kernel/locking/lockdep_state.js';
export * from './kernel/locking/rwsem.js';
export { rwsem_spin_on_owner_enable } from './kernel/locking/rwsem_spin.js';
export * from './kernel/locking/seqlock.js';
export * from './kernel/locking/spinlock.js';
export { add_taint, die, dump_stack, WARN, WARN_ON_ONCE } from './kernel/panic.js';
// RCU (flavours: the era's slot, swappable by a fixture that seeds a broken grace period)
export * from './kernel/preempt.js';
export * from './kernel/printk.js';
export * from './kernel/rcu/callbacks.js';
export { RCU_FLAVOURS_V4_14, RCU_FLAVOURS_V4_20, rcuFlavour } from './kernel/rcu/flavour.js';
export { rcu_gp_kthread } from './kernel/rcu/gp_kthread.js';
export { RCU_GET_STATE_COMPLETED } from './kernel/rcu/rcu.js';
export * from './kernel/rcu/tree.js';
export * from './kernel/rcu/update.js';
export { rcuwait_init, rcuwait_wait_event, rcuwait_wake_up } from './kernel/rcuwait.js';
export * from './kernel/refcount.js';
export * from './kernel/sched.js';
export { task_lock, task_unlock } from './kernel/task_lock.js';
export * from './kernel/task_struct.js';
export { HZ, jiffies, time_after } from './kernel/time.js';
export {
  init_waitqueue_head,
  WAIT_QUEUE_HEAD_WORDS,
  wait_event_interruptible,
  wake_up,
} from './kernel/wait.js';
export { CLONE_VM, copy_mm, dup_mm } from './mm/dup_mmap.js';
export {
  __mmput,
  __oom_reap_task_mm,
  check_mm,
  exit_mmap,
  mark_oom_victim,
  mmf,
  oom_reap_task_mm,
  process_mrelease,
  wake_oom_reaper,
} from './mm/era_ops.js';
export { __do_page_fault } from './mm/fault.js';
export { __access_remote_vm, get_user_page_remote } from './mm/gup.js';
// mm
export { kasan_instrument_atomics, kread, kwrite, kxchg } from './mm/kasan.js';
// The maple tree (v6.1+): the VMA container's walk in RCU mode, as reproducers of the tree's own
// races use it (mm->mm_mt; its nodes' slab caches, to check what a run freed).
export {
  maple_node_caches,
  mas_find,
  mas_init,
  mas_prev,
  mt_clear_in_rcu,
  mt_find,
  mt_in_rcu,
  mt_set_in_rcu,
} from './mm/maple_tree.js';
export {
  add_mm_counter,
  FAULT_FLAG_WRITE,
  free_pgtables,
  get_mm_counter,
  handle_mm_fault,
  unmap_page_range,
  unmap_vmas,
  VM_FAULT_ERROR,
  VM_FAULT_SIGBUS,
  VM_FAULT_SIGSEGV,
  VM_FAULT_WRITE,
} from './mm/memory.js';
export * from './mm/mm_types.js';
export {
  do_mmap,
  do_munmap,
  expand_stack,
  find_vma,
  find_vma_prev,
  for_each_vma,
  for_each_vma_range,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_GROWSDOWN,
  MAP_LOCKED,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MMAP_BASE,
  mm_populate,
  mmap_anon_fixed,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  remove_vma,
  stack_guard_gap,
  vm_mmap,
  vm_mmap_pgoff,
  vm_munmap,
} from './mm/mmap.js';
export * from './mm/mmap_lock.js';
export { tlb_finish_mmu, tlb_gather_mmu } from './mm/mmu_gather.js';
export { do_mprotect_pkey, mprotect } from './mm/mprotect.js';
export {
  do_send_sig_info_SIGKILL,
  exit_oom_victim,
  find_lock_task_mm,
  get_mm_rss,
  oom_badness,
  oom_init,
  oom_kill_process,
  oom_killer_disable,
  oom_killer_enable,
  oom_reap_task,
  oom_reaper,
  oom_victims,
  out_of_memory,
  task_will_free_mem,
  tsk_is_oom_victim,
} from './mm/oom_kill.js';
export { __GFP_ZERO, alloc_page, GFP_KERNEL, nr_free_pages, nr_pages, put_page } from './mm/page_alloc.js';
export {
  type KmemCache,
  kfree_rcu,
  kmem_cache_alloc,
  kmem_cache_create,
  kmem_cache_free,
  kmem_cache_live,
  SLAB_TYPESAFE_BY_RCU,
  slab_is_live,
  virt_to_cache,
} from './mm/slab.js';
export {
  __vm_area_free,
  dump_vma,
  FAULT_FLAG_VMA_LOCK,
  find_and_lock_anon_vma,
  lock_vma_under_rcu,
  perVmaLockGeneration,
  VM_BUG_ON_VMA,
  VM_FAULT_COMPLETED,
  VM_FAULT_RETRY,
  VMA_LOCK_OFFSET,
  VMA_REF_LIMIT,
  vm_area_cache,
  vm_area_cachep_typesafe,
  vm_area_free,
  vma_assert_attached,
  vma_assert_detached,
  vma_assert_locked,
  vma_assert_write_locked,
  vma_end_read,
  vma_end_write_all,
  vma_lock_cachep,
  vma_mark_attached,
  vma_mark_detached,
  vma_mark_locked,
  vma_mark_unlocked_all,
  vma_read_trylock,
  vma_read_unlock,
  vma_start_read,
  vma_start_write,
  vmstat_vma_lock,
} from './mm/vma_lock.js';
export { renderDmesg } from './report/dmesg.js';
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
// Scenarios and campaigns
export {
  type CheckContext,
  defineScenario,
  type FinalCheck,
  type Globals,
  type Scenario,
  type ScenarioCpu,
  ScenarioError,
  type ScenarioInput,
  type Variant,
  type Verdict,
} from './scenarios/scenario.js';
export { ArenaLayoutError, mem } from './shm/arena.js';
export { defineStruct } from './shm/layout.js';
export { defineStatics } from './shm/statics.js';
