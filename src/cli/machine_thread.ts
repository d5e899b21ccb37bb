// The command's handle on one machine host thread (workers/host.ts): starts it, turns its reply or
// its death into a settled promise, and stops it. A host that ends without a reply (an uncaught
// error, process.exit() in a scenario's setup, out of memory) is that machine's crash.
import { Worker } from 'node:worker_threads';
import { builtThreadEntry } from '../cpu/machine.js';
import { UsageError } from './args.js';
import type { HostReply, HostTask } from './machine_host.js';

export type HostDone = Extract<HostReply, { kind: 'done' }>;

/** A machine host ended without its rows. `message`'s first line names the machine. */
export class MachineCrashError extends Error {}

export class MachineThread {
  /** The host's rows; rejects with UsageError (bad input) or MachineCrashError. */
  readonly result: Promise<HostDone>;
  private readonly worker: Worker;

  constructor(readonly task: HostTask) {
    const { file, execArgv } = builtThreadEntry('host');
    this.worker = new Worker(file, { workerData: task, ...(execArgv ? { execArgv } : {}) });
    this.result = this.settle();
  }

  private get name(): string {
    return `machine ${this.task.index}/${this.task.count}`;
  }

  private settle(): Promise<HostDone> {
    return new Promise((resolve, reject) => {
      let error: unknown;
      this.worker.on('error', (e: unknown) => {
        error = e;
      });
      this.worker.on('message', (m: HostReply) => {
        if (m.kind === 'done') resolve(m);
        else if (m.kind === 'bad-input') reject(new UsageError(m.message));
        else reject(new MachineCrashError(`${this.name} crashed: ${m.message}`));
      });
      // After a reply this settles nothing; without one, the thread died.
      this.worker.on('exit', (code: number) => {
        const why = error
          ? ((error as Error)?.stack ?? String(error))
          : `its thread ended (exit code ${code}) before it reported`;
        reject(new MachineCrashError(`${this.name} crashed: ${why}`));
      });
    });
  }

  /** Ends the host thread, and with it its CPU threads (a worker's workers end with it). */
  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
