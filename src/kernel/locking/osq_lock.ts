// kernel/locking/osq_lock.c (v4.14; unchanged in substance through v6.6): the optimistic spin
// queue, an MCS queue of would-be spinners so that only its head spins on the lock's owner and
// the others spin on their own per-CPU node. `lock` is one word (struct optimistic_spin_queue's
// tail): 0 when empty, else the encoded CPU (cpu + 1) of the last queued node.
// Emulator differences: need_resched() is an iteration bound (MAX_SPIN) and vcpu_is_preempted() is
// never true; every wait is a runner.relax(), so a queued CPU never holds the controlled-mode token
// and the bound ends every spin even if nobody unlocks.
import { atomicPoint, BOOT_CPU, cpuCtx } from '../../cpu/context.js';
import { MAX_CPUS } from '../../cpu/control.js';
import { mem } from '../../shm/arena.js';
import { defineStatics } from '../../shm/statics.js';
import { MAX_SPIN } from './rwsem_config.js';

export const OSQ_UNLOCKED_VAL = 0;

// struct optimistic_spin_node { next, prev, locked, cpu }: next/prev hold node addresses (0 = NULL).
const NEXT = 0;
const PREV = 1;
const LOCKED = 2;
const CPU = 3;
const NODE_WORDS = 4;
// DEFINE_PER_CPU_SHARED_ALIGNED(struct optimistic_spin_node, osq_node), plus one for the boot CPU.
const OSQ = defineStatics('osq_node', [`node[${(MAX_CPUS + 1) * NODE_WORDS}]`]);

function thisCpu(): number {
  return cpuCtx.cpu === BOOT_CPU ? MAX_CPUS : cpuCtx.cpu;
}

function encode_cpu(cpu_nr: number): number {
  return cpu_nr + 1;
}

function decode_cpu(encoded_cpu_val: number): number {
  return OSQ.base() + OSQ.layout.node + (encoded_cpu_val - 1) * NODE_WORDS;
}

// include/linux/osq_lock.h osq_lock_init(), osq_is_locked()
export function osq_lock_init(lock: number): void {
  Atomics.store(mem.i32, lock, OSQ_UNLOCKED_VAL);
}

export function osq_is_locked(lock: number): boolean {
  return Atomics.load(mem.i32, lock) !== OSQ_UNLOCKED_VAL;
}

// kernel/locking/osq_lock.c osq_wait_next(): get a stable node->next, or move the tail back to
// `prev` when we are the last node.
function osq_wait_next(lock: number, node: number, prev: number): number {
  const i32 = mem.i32;
  const curr = encode_cpu(Atomics.load(i32, node + CPU));
  const old = prev ? Atomics.load(i32, prev + CPU) + 1 : OSQ_UNLOCKED_VAL;
  const runner = cpuCtx.runner;
  for (let spins = 0; ; spins++) {
    atomicPoint('osq_wait_next:tail'); // our next may move the tail back to us (its step B)
    if (Atomics.load(i32, lock) === curr) {
      atomicPoint('osq_wait_next:cmpxchg'); // a new spinner may take the tail after our read
      if (Atomics.compareExchange(i32, lock, curr, old) === curr) return 0;
    }
    atomicPoint('osq_wait_next:next'); // the new tail may publish itself as our next meanwhile
    if (Atomics.load(i32, node + NEXT)) {
      atomicPoint('osq_wait_next:xchg'); // our next may unqueue (its step A cmpxchg) meanwhile
      const next = Atomics.exchange(i32, node + NEXT, 0);
      if (next) return next;
    }
    runner.relax(spins);
  }
}

// kernel/locking/osq_lock.c osq_lock(), v4.14: true when this CPU heads the queue.
export function osq_lock(lock: number): boolean {
  const i32 = mem.i32;
  const cpu = thisCpu();
  const node = decode_cpu(encode_cpu(cpu));
  const curr = encode_cpu(cpu);
  Atomics.store(i32, node + LOCKED, 0);
  Atomics.store(i32, node + NEXT, 0);
  Atomics.store(i32, node + CPU, cpu);
  atomicPoint('osq_lock:xchg'); // the queue may change after the caller's owner check
  const old = Atomics.exchange(i32, lock, curr);
  if (old === OSQ_UNLOCKED_VAL) return true;
  let prev = decode_cpu(old);
  Atomics.store(i32, node + PREV, prev);
  // We are the tail but prev->next is not set: prev's unlock waits for it in osq_wait_next().
  atomicPoint('osq_lock:prev_next');
  Atomics.store(i32, prev + NEXT, node);
  const runner = cpuCtx.runner;
  // Spin on our own node until the predecessor hands us the head; need_resched() unqueues.
  let spins = 0;
  atomicPoint('osq_lock:locked'); // prev may hand over before our first look
  for (; !Atomics.load(i32, node + LOCKED); spins++) {
    if (spins >= MAX_SPIN) break;
    runner.relax(spins);
  }
  if (Atomics.load(i32, node + LOCKED)) return true;
  // Step A: unlink from prev, unless it is handing us the lock right now.
  for (;;) {
    atomicPoint('osq_lock:unqueue'); // prev may hand over or unqueue itself meanwhile
    if (Atomics.load(i32, prev + NEXT) === node) {
      atomicPoint('osq_lock:unqueue_cmpxchg'); // prev's osq_unlock() may xchg its next first
      if (Atomics.compareExchange(i32, prev + NEXT, node, 0) === node) break;
    }
    atomicPoint('osq_lock:unqueue_locked');
    if (Atomics.load(i32, node + LOCKED)) return true;
    runner.relax(spins++);
    prev = Atomics.load(i32, node + PREV);
  }
  // Step B: a stable next, or we were last and moved the tail back to prev.
  const next = osq_wait_next(lock, node, prev);
  if (!next) return false;
  // Step C: link prev and next together.
  Atomics.store(i32, next + PREV, prev);
  atomicPoint('osq_lock:relink'); // next may read its new prev and retry step A before the link
  Atomics.store(i32, prev + NEXT, next);
  return false;
}

// kernel/locking/osq_lock.c osq_unlock(), v4.14: pass the head to the next node, if any.
export function osq_unlock(lock: number): void {
  const i32 = mem.i32;
  const cpu = thisCpu();
  const curr = encode_cpu(cpu);
  atomicPoint('osq_unlock:cmpxchg'); // a spinner may queue behind us first
  if (Atomics.compareExchange(i32, lock, curr, OSQ_UNLOCKED_VAL) === curr) return;
  const node = decode_cpu(curr);
  atomicPoint('osq_unlock:xchg'); // the new tail may not have set our next yet, or may unqueue
  let next = Atomics.exchange(i32, node + NEXT, 0);
  if (!next) next = osq_wait_next(lock, node, 0);
  // next is ours now: its step A cmpxchg fails, it spins until this store.
  atomicPoint('osq_unlock:locked');
  if (next) Atomics.store(i32, next + LOCKED, 1);
}
