// RCU flavours as each era had them: what a grace period waits for. Before v4.20 a kernel has
// separate flavours: RCU-sched (kernel/rcu/tree.c rcu_sched_state: synchronize_sched(),
// call_rcu_sched()) waits for preempt-disabled regions, and plain RCU (rcu_preempt_state of a
// CONFIG_PREEMPT kernel: synchronize_rcu(), call_rcu()) for rcu_read_lock() sections only. v4.20
// (the flavour consolidation, 45975c7d21a1 "rcu: Define RCU-sched API in terms of vanilla RCU")
// makes one: synchronize_rcu() waits for both, and synchronize_sched() is synchronize_rcu().
// An era profile (src/eras/) fills the slot; until one is applied it holds the pre-v4.20 flavours.
import { urcu_memb_wait_for_readers } from './memb.js';
import { wait_for_preempt_holdouts } from './sched_qs.js';

export interface RcuFlavourOps {
  /** A grace period of the plain RCU domain: waits for every reader it must (`skip`: the caller's slot). */
  rcu_gp_wait(skip: number): void;
  /** A grace period of the RCU-sched domain (synchronize_sched(), call_rcu_sched()). */
  rcu_sched_gp_wait(skip: number): void;
}

// kernel/rcu/tree_plugin.h rcu_preempt_state, v4.14 (CONFIG_PREEMPT_RCU): rcu_read_lock() only.
export function rcu_gp_wait_v4_14(skip: number): void {
  urcu_memb_wait_for_readers(skip);
}

// kernel/rcu/tree.c rcu_sched_state, v4.14: preempt-disabled regions.
export function rcu_sched_gp_wait_v4_14(skip: number): void {
  wait_for_preempt_holdouts(skip);
}

// kernel/rcu/tree.c rcu_state, v4.20: one flavour. The preempt-disabled regions are scanned first,
// so a reader that begins after the second phase flip is waited for by neither part.
export function rcu_gp_wait_v4_20(skip: number): void {
  wait_for_preempt_holdouts(skip);
  urcu_memb_wait_for_readers(skip);
}

export const RCU_FLAVOURS_V4_14: RcuFlavourOps = {
  rcu_gp_wait: rcu_gp_wait_v4_14,
  rcu_sched_gp_wait: rcu_sched_gp_wait_v4_14,
};

/** synchronize_sched() is synchronize_rcu() from v4.20: its domain waits for the same readers. */
export const RCU_FLAVOURS_V4_20: RcuFlavourOps = {
  rcu_gp_wait: rcu_gp_wait_v4_20,
  rcu_sched_gp_wait: rcu_gp_wait_v4_20,
};

export const rcuFlavour: RcuFlavourOps = { ...RCU_FLAVOURS_V4_14 };
