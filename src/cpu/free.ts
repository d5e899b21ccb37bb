// The free runner: every CPU runs flat out on its own worker; named race windows get seeded jitter.
import { mem } from '../shm/arena.js';
import { emulatedNow, timeScale, wallNow } from './clock.js';
import { bootEpoch, C, ctl, PC, percpu } from './control.js';
import { CpuStop } from './errors.js';
import { setAtomicWindows } from './granularity.js';
import { enterWait, leaveWait } from './idle_warp.js';
import { digestStep, type JitterConfig, jitterDecision, type WindowInfo, windowTable } from './jitter.js';
import { clearQuietPoints, pendingQuietPoints, type QuietRunner, regate } from './point_gate.js';
import { EventKind, RecordWriter, recordBase } from './record.js';
import type { Runner, WaitResult } from './runner.js';

/** Longest single host wait, so an aborted run is noticed promptly. */
const WAIT_SLICE_MS = 2;
const SPIN_BEFORE_WAIT = 64;

const parkWord = new Int32Array(new SharedArrayBuffer(4));

export class FreeRunner implements Runner, QuietRunner {
  readonly mode = 'free' as const;
  /** Points reached in this run, but for the quiet ones not yet handed over (see `points`). */
  private counted = 0;
  jitterEvents = 0;
  jitterDigest = 0;
  private runSeed = 0;
  private readonly occurrences = new Map<number, number>();
  private readonly windows: Map<string, WindowInfo>;
  private readonly abortAt: number;
  /** --record: stamps the global order of this CPU's points (record.ts); null without the region. */
  private readonly rec: RecordWriter | null;
  private recording = false;
  /** In a spin loop since PC.SPIN_SINCE was stamped (the soft-lockup watchdog reads it). */
  private spinning = false;
  private readonly spinSinceAt: number;
  /** `current` on this CPU (cpu_loop wires it to cpuCtx; context.ts imports this file). */
  currentTask: () => number = () => 0;

  constructor(
    private readonly cfg: JitterConfig,
    private readonly cpu: number,
  ) {
    this.windows = windowTable(cfg);
    setAtomicWindows(this.windows.size > 0);
    this.abortAt = ctl() + C.ABORT;
    this.spinSinceAt = percpu(cpu, PC.SPIN_SINCE);
    const rb = recordBase(mem.arena);
    this.rec = rb >= 0 ? new RecordWriter(rb, cpu) : null;
  }

  /** A run's jitter depends only on its own seed (campaign seed + run index). */
  beginRun(runSeed: number): void {
    this.runSeed = runSeed;
    this.spinDone();
    this.counted = 0;
    clearQuietPoints(this);
    this.jitterEvents = 0;
    this.jitterDigest = 0;
    this.occurrences.clear();
    if (this.rec) {
      this.rec.begin();
      this.recording = this.rec.on;
    }
    regate(this);
  }

  /** Preemption points reached in this run, the quiet ones included (cpu/point_gate.ts). */
  get points(): number {
    return this.counted + pendingQuietPoints(this);
  }

  /**
   * No jitter window, no --record, not in a spin loop: a straight-line point would only count and
   * check the abort word, which the gate does every QUIET_STRIDE points instead.
   */
  pointsQuiet(): boolean {
    // A subclass or an instance that replaces point() hears every point.
    if (this.point !== FreeRunner.prototype.point) return false;
    return this.windows.size === 0 && !this.recording && !this.spinning;
  }

  quietPoints(n: number): void {
    this.counted += n;
    if (Atomics.load(mem.i32, this.abortAt) !== 0) throw new CpuStop();
  }

  absorbQuietPoints(n: number): void {
    this.counted += n;
  }

  /** After the run's program: publish the recording's length. */
  endRun(): void {
    if (this.recording) this.rec!.end();
  }

  point(id: string): void {
    if (Atomics.load(mem.i32, this.abortAt) !== 0) throw new CpuStop();
    this.counted++;
    if (this.spinning) this.spinDone();
    // Stamped as the CPU arrives, before any jitter: a replay orders each CPU's stretch of code by
    // the stamp of the point that ends it (strategies/follow.ts), and a delay injected here belongs
    // to the stretch that starts here.
    if (this.recording) this.rec!.stamp(EventKind.Point);
    const w = this.windows.get(id);
    if (w !== undefined) this.inject(w);
  }

  window(id: string): void {
    const w = this.windows.get(id);
    if (w !== undefined) this.inject(w);
  }

  private inject(w: WindowInfo): void {
    const wh = w.hash;
    const occ = (this.occurrences.get(wh) ?? 0) + 1;
    this.occurrences.set(wh, occ);
    const d = jitterDecision(this.cfg, this.runSeed, this.cpu, wh, occ, w.knobs);
    if (d.kind === 'none') return;
    this.jitterEvents++;
    this.jitterDigest = digestStep(this.jitterDigest, wh, occ, d);
    if (d.kind === 'delay') {
      const i32 = mem.i32;
      for (let i = 0; i < d.spins; i++) if (Atomics.load(i32, this.abortAt) !== 0) break;
    } else {
      Atomics.wait(parkWord, 0, 0, d.us / 1000);
    }
  }

  wait(addr: number, expected: number, timeoutMs: number): WaitResult {
    const i32 = mem.i32;
    if (this.spinning) this.spinDone();
    // Recorded where controlled mode hands the token back: a wait that will sleep.
    if (this.recording && timeoutMs > 0 && Atomics.load(i32, addr) === expected)
      this.rec!.stamp(EventKind.Wait);
    // The deadline is on the emulated clock, which an idle warp moves (idle_warp.ts).
    const now = emulatedNow();
    const deadline = Number.isFinite(timeoutMs) ? now + timeoutMs : Infinity;
    if (timeoutMs <= 0 || Atomics.load(i32, addr) !== expected) return this.sleep(addr, expected, deadline);
    enterWait(this.cpu, deadline, now);
    try {
      return this.sleep(addr, expected, deadline);
    } finally {
      leaveWait(this.cpu, deadline);
    }
  }

  /** Host waits on `addr` in slices until it changes, a wake, or the emulated `deadline`. */
  private sleep(addr: number, expected: number, deadline: number): WaitResult {
    const i32 = mem.i32;
    for (;;) {
      if (Atomics.load(i32, this.abortAt) !== 0) throw new CpuStop();
      const left = (deadline - emulatedNow()) / timeScale();
      if (left <= 0) return 'timed-out';
      const r = Atomics.wait(i32, addr, expected, Math.min(WAIT_SLICE_MS, left));
      if (r !== 'timed-out') return r;
    }
  }

  wake(addr: number, count: number): void {
    Atomics.notify(mem.i32, addr, count);
  }

  /** The spin loop is over: the CPU reached a point, a wait, or a new run. */
  private spinDone(): void {
    this.spinning = false;
    Atomics.store(mem.i32, this.spinSinceAt, 0);
    regate(this);
  }

  relax(spins: number): void {
    if (spins === 0) {
      // The start of a spin loop, marked (the replay ignores it by default: see follow.ts).
      if (this.recording) this.rec!.stamp(EventKind.Spin);
      if (!this.spinning) {
        this.spinning = true;
        // The next point ends the spin loop (spinDone): it must reach point(), not the gate.
        regate(this);
        Atomics.store(mem.i32, percpu(this.cpu, PC.CURRENT), this.currentTask());
        Atomics.store(mem.i32, this.spinSinceAt, ((wallNow() - bootEpoch()) | 0) + 1);
      }
    }
    if (spins < SPIN_BEFORE_WAIT) return;
    if (Atomics.load(mem.i32, this.abortAt) !== 0) throw new CpuStop();
    // Past a short spin, give the host core away: more CPUs than cores must not livelock.
    Atomics.wait(parkWord, 0, 0, spins < 1024 ? 0.005 : 0.05);
  }

  now(): number {
    return emulatedNow();
  }
}

/** The runner of the main thread while it sets a machine up: no jitter, never preempted. */
export class BootRunner implements Runner, QuietRunner {
  readonly mode = 'boot' as const;
  point(_id: string): void {}
  pointsQuiet(): boolean {
    // A subclass or an instance that replaces point() (tests do) hears every point.
    return this.point === BootRunner.prototype.point;
  }
  quietPoints(_n: number): void {}
  absorbQuietPoints(_n: number): void {}
  wait(addr: number, expected: number, timeoutMs: number): WaitResult {
    const t = Number.isFinite(timeoutMs) ? timeoutMs / timeScale() : undefined;
    return Atomics.wait(mem.i32, addr, expected, t);
  }
  wake(addr: number, count: number): void {
    Atomics.notify(mem.i32, addr, count);
  }
  relax(_spins: number): void {}
  now(): number {
    return emulatedNow();
  }
}
