// /proc/lock_stat (kernel/locking/lockdep_proc.c, v6.6): the header, one row per class and
// side ("-W"/"-R" when a class was taken both ways), its contention and contending points,
// classes sorted by contentions.
import { hex8 } from '../printk.js';
import { type LockClassStats, type LockTime, lockStatClasses } from './lock_stat.js';
import { debug_locks } from './lockdep_state.js';

const RULE = 40 + 1 + 12 * (14 + 1);

// kernel/locking/lockdep_proc.c seq_line(), v6.6
function seq_line(c: string, offset: number, length: number): string {
  return ' '.repeat(offset) + c.repeat(length);
}

// kernel/locking/lockdep_proc.c snprint_time(), v6.6: ns as µs with two decimals
function snprint_time(nr: number): string {
  nr += 5; // for display rounding
  const div = Math.trunc(nr / 1000);
  const rem = nr - div * 1000;
  return `${div}.${String(Math.trunc(rem / 10)).padStart(2, '0')}`;
}

// kernel/locking/lockdep_proc.c seq_time(), v6.6
function seq_time(time: number): string {
  return ` ${snprint_time(time).padStart(14)}`;
}

// kernel/locking/lockdep_proc.c seq_lock_time(), v6.6
function seq_lock_time(lt: LockTime): string {
  const avg = lt.nr ? Math.trunc(lt.total / lt.nr) : 0;
  return (
    String(lt.nr).padStart(14) + seq_time(lt.min) + seq_time(lt.max) + seq_time(lt.total) + seq_time(avg)
  );
}

const n14 = (v: number): string => String(v).padStart(14);

// kernel/locking/lockdep_proc.c seq_stats(), v6.6
function seq_stats(stats: LockClassStats): string[] {
  const out: string[] = [];
  const name = stats.name.slice(0, 37);
  let namelen = name.length;
  const b = stats.bounces;
  const hasRead = stats.read_holdtime.nr !== 0;
  if (stats.write_holdtime.nr) {
    const label = hasRead ? `${name.padStart(38)}-W:` : `${name.padStart(40)}:`;
    out.push(
      `${label}${n14(b.contended_write)} ${seq_lock_time(stats.write_waittime)} ${n14(b.acquired_write)} ${seq_lock_time(stats.write_holdtime)}`,
    );
  }
  if (hasRead) {
    out.push(
      `${name.padStart(38)}-R:${n14(b.contended_read)} ${seq_lock_time(stats.read_waittime)} ${n14(b.acquired_read)} ${seq_lock_time(stats.read_holdtime)}`,
    );
  }
  if (stats.read_waittime.nr + stats.write_waittime.nr === 0) return out;
  if (hasRead) namelen += 2;
  let i = 0;
  for (const list of [stats.contention_point, stats.contending_point]) {
    for (i = 0; i < list.length; i++) {
      if (!i) out.push(seq_line('-', 40 - namelen, namelen));
      const p = list[i]!;
      out.push(`${name.padStart(40)} ${n14(p.count)} ${`[<${hex8(ipWord(p.ip))}>]`.padStart(29)} ${p.ip}`);
    }
  }
  if (i) out.push('', seq_line('.', 0, RULE), '');
  return out;
}

/** A stable pseudo-address for a call site string (the kernel prints the hashed ip). */
function ipWord(ip: string): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < ip.length; k++) h = Math.imul(h ^ ip.charCodeAt(k), 0x01000193);
  return h >>> 0;
}

// kernel/locking/lockdep_proc.c seq_header(), v6.6
function seq_header(): string[] {
  const cols = [
    'con-bounces',
    'contentions',
    'waittime-min',
    'waittime-max',
    'waittime-total',
    'waittime-avg',
    'acq-bounces',
    'acquisitions',
    'holdtime-min',
    'holdtime-max',
    'holdtime-total',
    'holdtime-avg',
  ];
  const out = ['lock_stat version 0.4'];
  if (!debug_locks()) out.push('*WARNING* lock debugging disabled!! - possibly due to a lockdep warning');
  out.push(seq_line('-', 0, RULE), ['class name'.padStart(40), ...cols.map((c) => c.padStart(14))].join(' '));
  out.push(seq_line('-', 0, RULE), '');
  return out;
}

const contentions = (s: LockClassStats): number => s.read_waittime.nr + s.write_waittime.nr;

/** `cat /proc/lock_stat`: lock_stat_open()'s sort by contentions, then ls_show() per class. */
export function lockStatText(): string {
  const classes = lockStatClasses().sort((l, r) => contentions(r) - contentions(l));
  const lines = seq_header();
  for (const s of classes) lines.push(...seq_stats(s));
  return `${lines.join('\n')}\n`;
}
