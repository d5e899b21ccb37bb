// The calling thread's CPU time (user + system), from Linux's /proc/thread-self/stat, in ms with
// the clock tick's resolution (USER_HZ = 100: 10 ms). A synchronous read runs on the calling
// thread, so a CPU worker reads its own. NaN where there is no such file (not Linux).
//
// It tells how much of a sample the host actually ran a CPU: on a loaded host (other processes on
// the cores) a CPU that is runnable for 200 ms may get 40 ms of a core, and CPUs meant to run at
// the same time take turns instead. The experiments report it beside their rates.
import { readFileSync } from 'node:fs';

const USER_HZ = 100;

export function threadCpuMs(): number {
  try {
    const s = readFileSync('/proc/thread-self/stat', 'utf8');
    // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / USER_HZ;
  } catch {
    return Number.NaN;
  }
}
