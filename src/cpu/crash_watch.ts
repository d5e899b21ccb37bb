// The main thread's side of a crashed CPU, for one campaign: the first crash from any source (a
// task's result, a task's rejection, a worker thread that ended), with its CPU, stops the others.

import { AbortReason, C, ctl, PC, percpu } from './control.js';
import type { CpuTaskResult } from './cpu_loop.js';
import { type CpuCrash, diedCrash, oomCrash, readPublishedCrash, stopCampaign } from './crash.js';

export class CrashWatch {
  /** The first crash of the campaign. */
  crash: CpuCrash | undefined;
  private armed = true;
  private wake: () => void = () => {};
  /** The control block (the machine is attached when a campaign starts). */
  private readonly ctl = ctl();
  private readonly noted = new Promise<void>((r) => {
    this.wake = r;
  });

  constructor(
    /** Makes the campaign's machine the current one (the control block helpers read `mem`). */
    private readonly attach: () => void,
    private readonly i32: Int32Array,
    private readonly ncpus: number,
    private readonly heapMb: number,
    private readonly cpuNames: readonly string[] = [],
  ) {}

  /** A CPU's task, which never rejects: a rejection is its worker dying (out of memory, killed). */
  task(cpu: number, p: Promise<CpuTaskResult>): Promise<CpuTaskResult> {
    return p.then(
      (r) => {
        if (r.crash) this.note(r.crash);
        return r;
      },
      (e: unknown) => {
        const crash = isOom(e) ? oomCrash(cpu, this.heapMb) : diedCrash(cpu, 'failed', e);
        this.note(crash);
        return { cpu, runs: 0, crash };
      },
    );
  }

  /** A worker thread ended while the campaign ran: `error` is what it emitted before, if anything. */
  workerExit(threadId: number, code: number, error: unknown): void {
    if (!this.armed || this.crash) return;
    this.attach();
    const cpu = this.cpuOfThread(threadId);
    // process.exit() published its report (with the program's stack) before the thread ended.
    const published = isOom(error) ? undefined : readPublishedCrash();
    this.note(
      isOom(error)
        ? oomCrash(cpu, this.heapMb)
        : (published ?? diedCrash(cpu, `ended (exit code ${code})`, error)),
    );
  }

  /** An error the pool reported outside any task (a worker that failed between tasks). */
  poolError(e: unknown): void {
    this.note(isOom(e) ? oomCrash(-1, this.heapMb) : diedCrash(-1, 'failed', e));
  }

  note(c: CpuCrash): void {
    if (!this.armed || this.crash) return;
    this.attach();
    const name = this.cpuNames[c.cpu];
    this.crash = name !== undefined && c.cpuName === undefined ? { ...c, cpuName: name } : c;
    // The crashed CPU may not have been able to stop the others (its thread is gone).
    stopCampaign(this.i32, c.cpu);
    this.wake();
  }

  /**
   * A CPU set ABORT=Crash: wait up to `ms` for its report to arrive; then take the one it
   * published in the control block, or say what is known.
   */
  async settle(ms: number): Promise<CpuCrash> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.noted, new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
    if (!this.crash) {
      this.attach();
      const cpu = Atomics.load(this.i32, this.ctl + C.ABORT_CPU);
      this.note(readPublishedCrash() ?? diedCrash(cpu, `sent no report within ${ms} ms of its crash`));
    }
    return this.crash!;
  }

  /** A crash was set in the control block (ABORT=Crash), or noted here. */
  get crashed(): boolean {
    return this.crash !== undefined || Atomics.load(this.i32, this.ctl + C.ABORT) === AbortReason.Crash;
  }

  /** From now on nothing is a crash: the machine is tearing the threads down on purpose. */
  disarm(): void {
    this.armed = false;
  }

  private cpuOfThread(threadId: number): number {
    for (let cpu = 0; cpu < this.ncpus; cpu++) {
      if (Atomics.load(this.i32, percpu(cpu, PC.THREAD_ID)) === threadId) return cpu;
    }
    return -1;
  }
}

function isOom(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
}
