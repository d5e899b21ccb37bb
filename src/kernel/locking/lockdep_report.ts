// lockdep's reports (kernel/locking/lockdep.c print_*, v6.6): the circular dependency and the
// recursive locking splats, with the kernel's lines, rules and blank lines.
import { cpuCtx } from '../../cpu/context.js';
import { dump_stack, print_tainted } from '../panic.js';
import { hex8, KERN_WARNING, printk } from '../printk.js';
import { task_comm, task_pid } from '../task_struct.js';
import { utsname } from '../utsname.js';
import { className, classWaitType, get_usage_chars } from './lockdep_classes.js';
import { dependencyTrace } from './lockdep_graph.js';
import {
  HL_ACQUIRE_IP,
  HL_INSTANCE,
  heldLock,
  hlock_class,
  hlockGet,
  hlockRead,
  lockdepDepth,
} from './lockdep_held.js';
import { ipName } from './lockdep_ip.js';
import { debug_locks_off } from './lockdep_state.js';

// kernel/locking/lockdep.c print_lock_name(), v6.6: " (name){usage}-{outer:inner}"
function print_lock_name(idx: number): string {
  const w = classWaitType(idx);
  return ` (${className(idx)}){${get_usage_chars(idx)}}-{${w}:${w}}`;
}

// kernel/locking/lockdep.c print_lock(), v6.6
function print_lock(h: number): string {
  const idx = hlock_class(h);
  if (!idx) return '<RELEASED>';
  return `${hex8(hlockGet(h, HL_INSTANCE))}${print_lock_name(idx)}, at: ${ipName(hlockGet(h, HL_ACQUIRE_IP))}`;
}

// kernel/locking/lockdep.c lockdep_print_held_locks(), v6.6
export function lockdep_print_held_locks(t: number): string[] {
  const depth = lockdepDepth(t);
  if (depth <= 0) return [`no locks held by ${task_comm(t)}/${task_pid(t)}.`];
  const out = [`${depth} lock${depth > 1 ? 's' : ''} held by ${task_comm(t)}/${task_pid(t)}:`];
  for (let i = 0; i < depth; i++) out.push(` #${i}: ${print_lock(heldLock(t, i))}`);
  return out;
}

// kernel/locking/lockdep.c print_kernel_ident(), v6.6
function print_kernel_ident(): string {
  return `${utsname.release} #1 ${print_tainted()}`;
}

// kernel/locking/lockdep.c print_lock_trace(), v6.6 (spaces = 6)
function print_lock_trace(trace: readonly string[]): string[] {
  return trace.map((f) => `      ${f}`);
}

// kernel/locking/lockdep.c print_circular_lock_scenario(), v6.6
function print_circular_lock_scenario(src: number, tgt: number, parent: number): string[] {
  const source = hlock_class(src);
  const target = hlock_class(tgt);
  const out: string[] = [];
  if (parent !== source) {
    out.push(
      'Chain exists of:',
      `  ${className(source)} --> ${className(parent)} --> ${className(target)}`,
      '',
    );
  }
  out.push(
    ' Possible unsafe locking scenario:',
    '',
    '       CPU0                    CPU1',
    '       ----                    ----',
    `  ${hlockRead(tgt) ? 'rlock' : 'lock'}(${className(target)});`,
    `                               lock(${className(parent)});`,
    `                               lock(${className(target)});`,
    `  ${hlockRead(src) ? 'rlock' : 'lock'}(${className(source)});`,
    '',
    ' *** DEADLOCK ***',
    '',
  );
  return out;
}

/**
 * kernel/locking/lockdep.c print_circular_bug(), v6.6. `path` is the existing chain of classes
 * from next's class to prev's; `trace` is the stack that tries to close the cycle.
 */
export function print_circular_bug(
  path: readonly number[],
  next: number,
  prev: number,
  trace: string[],
): void {
  const curr = cpuCtx.current;
  const depth = path.length - 1;
  const lines = [
    '',
    '======================================================',
    'WARNING: possible circular locking dependency detected',
    print_kernel_ident(),
    '------------------------------------------------------',
    `${task_comm(curr)}/${task_pid(curr)} is trying to acquire lock:`,
    print_lock(next),
    '',
    'but task is already holding lock:',
    print_lock(prev),
    '',
    'which lock already depends on the new lock.',
    '',
    '',
    'the existing dependency chain (in reverse order) is:',
  ];
  // print_circular_bug_header() prints the target, then each BFS parent back to the root.
  for (let k = depth; k >= 0; k--) {
    lines.push('', `-> #${k}${print_lock_name(path[k]!)}:`);
    lines.push(...print_lock_trace(k > 0 ? dependencyTrace(path[k - 1]!, path[k]!) : trace));
  }
  lines.push('', 'other info that might help us debug this:', '');
  lines.push(...print_circular_lock_scenario(next, prev, path[depth - 1]!));
  lines.push(...lockdep_print_held_locks(curr), '', 'stack backtrace:');
  printk(KERN_WARNING, lines.join('\n'));
  dump_stack(KERN_WARNING);
}

// kernel/locking/lockdep.c print_deadlock_bug(), v6.6 (same class taken twice)
export function print_deadlock_bug(next: number, prev: number): void {
  const curr = cpuCtx.current;
  const lines = [
    '',
    '============================================',
    'WARNING: possible recursive locking detected',
    print_kernel_ident(),
    '--------------------------------------------',
    `${task_comm(curr)}/${task_pid(curr)} is trying to acquire lock:`,
    print_lock(next),
    '',
    'but task is already holding lock:',
    print_lock(prev),
    '',
    'other info that might help us debug this:',
    // print_deadlock_scenario()
    ' Possible unsafe locking scenario:',
    '',
    '       CPU0',
    '       ----',
    `  lock(${className(hlock_class(prev))});`,
    `  lock(${className(hlock_class(next))});`,
    '',
    ' *** DEADLOCK ***',
    '',
    ' May be due to missing lock nesting notation',
    '',
    ...lockdep_print_held_locks(curr),
    '',
    'stack backtrace:',
  ];
  printk(KERN_WARNING, lines.join('\n'));
  dump_stack(KERN_WARNING);
}

// kernel/locking/lockdep.c print_held_locks_bug(), v6.6: a task exits holding locks.
export function print_held_locks_bug(): void {
  if (!debug_locks_off()) return;
  const curr = cpuCtx.current;
  const lines = [
    '',
    '====================================',
    `WARNING: ${task_comm(curr)}/${task_pid(curr)} still has locks held!`,
    print_kernel_ident(),
    '------------------------------------',
    ...lockdep_print_held_locks(curr),
    '',
    'stack backtrace:',
  ];
  printk(KERN_WARNING, lines.join('\n'));
  dump_stack(KERN_WARNING);
}
