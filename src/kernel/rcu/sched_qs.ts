// kernel/rcu/tree.c (v4.14) rcu_sched: a CPU is in an RCU-sched read-side critical section while
// its preempt count is non-zero (a spinlock held, rcu_read_lock_sched(), preempt_disable()), and
// quiescent whenever it is zero. A grace period that waits for RCU-sched readers looks at each
// CPU's preempt word after the grace period began: a CPU at zero is done; a CPU inside gets
// PREEMPT_NEED_RESCHED (resched_cpu(), as rcu_gp_fqs() does to a holdout), and is done once its
// outermost preempt_enable() clears the bit (kernel/preempt.ts) or its count is seen at zero.
// Regions entered after the scan of a CPU are not waited for.
//
// The kernel notices quiescent states from the scheduling-clock tick and context switches; a CPU
// here never switches tasks, so the outermost preempt_enable() stands for them: what a grace period
// waits for is the same (every region in progress at its start), found without a tick.

import {
  atomicPoint,
  cpuCtx,
  PREEMPT_COUNT_MASK,
  PREEMPT_NEED_RESCHED,
  point,
  preemptCountWord,
} from '../../cpu/context.js';
import { MAX_CPUS } from '../../cpu/control.js';
import { atomicPoints } from '../../cpu/granularity.js';
import { mem } from '../../shm/arena.js';
import { resched_cpu } from '../preempt.js';
import { HZ, jiffies } from '../time.js';
import {
  GP_FUTEX_WAIT_MS,
  print_other_cpu_stall,
  RCU_CPU_STALL_TIMEOUT,
  RCU_QS_ACTIVE_ATTEMPTS,
} from './memb.js';
import { rcuRunCpus } from './rcu.js';

/**
 * Waits until every CPU but the caller (reader slot `skip`: the boot CPU is slot 0, CPU c slot
 * c + 1) has been seen outside a preempt-disabled region since the call.
 */
export function wait_for_preempt_holdouts(skip: number): void {
  const n = atomicPoints() ? rcuRunCpus() : 0; // only the run's CPUs change their count meanwhile
  for (let cpu = -1; cpu < MAX_CPUS; cpu++) if (cpu + 1 !== skip) wait_for_cpu_qs(cpu, cpu >= 0 && cpu < n);
}

function wait_for_cpu_qs(cpu: number, live: boolean): void {
  // After the previous CPU's scan: this one may enter or leave a region meanwhile.
  if (live) atomicPoint('wait_for_cpu_qs:resched');
  if (!resched_cpu(cpu)) return;
  // Between setting PREEMPT_NEED_RESCHED and reading the count, its preempt_enable() may clear it.
  if (live) atomicPoint('wait_for_cpu_qs:preempt_count');
  const i32 = mem.i32;
  const w = preemptCountWord(cpu);
  const runner = cpuCtx.runner;
  const start = jiffies();
  let stallReported = false;
  for (let n = 0; ; n++) {
    const v = Atomics.load(i32, w);
    // Quiescent: at zero now, or its outermost preempt_enable() has cleared our request.
    if ((v & PREEMPT_COUNT_MASK) === 0 || (v & PREEMPT_NEED_RESCHED) === 0) return;
    point('rcu_sched_wait');
    if (n < RCU_QS_ACTIVE_ATTEMPTS) {
      runner.relax(n);
      continue;
    }
    if (!stallReported && jiffies() - start >= RCU_CPU_STALL_TIMEOUT * HZ) {
      stallReported = true;
      print_other_cpu_stall(cpu, `preempt_count ${v & PREEMPT_COUNT_MASK}`, start);
    }
    // preempt_schedule() wakes this word; any change of the count ends the sleep too.
    runner.wait(w, v, GP_FUTEX_WAIT_MS);
  }
}
