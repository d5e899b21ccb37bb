// Wall-clock time as the emulated machine sees it. In free mode emulated time runs at
// `timeScale` times wall time (scenarios speed up long kernel sleeps such as the reaper's retries).
import { mem } from '../shm/arena.js';
import { bootEpoch, C, ctl } from './control.js';
import { warpMs } from './idle_warp.js';

export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

export function timeScale(): number {
  const x = Atomics.load(mem.i32, ctl() + C.TIME_SCALE_X1000);
  return x > 0 ? x / 1000 : 1;
}

/** Emulated milliseconds since boot: wall time at the scale, plus what idle warps skipped. */
export function emulatedNow(): number {
  return (wallNow() - bootEpoch()) * timeScale() + warpMs();
}
