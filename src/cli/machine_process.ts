// The command's handle on one machine host process (workers/host.ts): starts it, hands it shards
// as it asks, turns its reply or its death into a settled promise, and stops it. A host that ends
// without a reply (process.exit() in a scenario's setup, out of memory, a signal) is that
// machine's crash.
import { type ChildProcess, fork } from 'node:child_process';
import { builtThreadEntry } from '../cpu/machine.js';
import { UsageError } from './args.js';
import type { HostMessage, HostOrder, HostReply, HostTask } from './machine_host.js';

export type HostDone = Extract<HostReply, { kind: 'done' }>;

/** A machine host ended without its rows. `message`'s first line names the machine. */
export class MachineCrashError extends Error {}

export class MachineProcess {
  /** The host's rows; rejects with UsageError (bad input) or MachineCrashError. */
  readonly result: Promise<HostDone>;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  /** `nextShard`: the campaign's next shard for whichever machine asks first, null when none is left. */
  constructor(
    readonly task: HostTask,
    private readonly nextShard: () => number | null,
  ) {
    const { file, execArgv } = builtThreadEntry('host');
    this.child = fork(file, [], {
      ...(execArgv ? { execArgv } : {}),
      // Its rows come back as messages; what a scenario prints goes to ours, as a thread's did.
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
      env: { ...process.env, MMRACE_MACHINE: String(task.index) },
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.result = this.settle();
    this.order({ kind: 'task', task });
  }

  private get name(): string {
    return `machine ${this.task.index}/${this.task.count}`;
  }

  private order(m: HostOrder): void {
    if (this.child.connected) this.child.send(m);
  }

  private settle(): Promise<HostDone> {
    return new Promise((resolve, reject) => {
      let error: unknown;
      this.child.on('error', (e: unknown) => {
        error = e;
      });
      this.child.on('message', (m: HostMessage) => {
        if (m.kind === 'next') this.order({ kind: 'shard', index: this.nextShard() });
        else if (m.kind === 'done') resolve(m);
        else if (m.kind === 'bad-input') reject(new UsageError(m.message));
        else reject(new MachineCrashError(`${this.name} crashed: ${m.message}`));
      });
      // After a reply this settles nothing; without one, the process died.
      this.child.on('exit', (code: number | null, signal: NodeJS.Signals | null) => {
        const how = signal ? `signal ${signal}` : `exit code ${code}`;
        const why = error
          ? ((error as Error)?.stack ?? String(error))
          : `its process ended (${how}) before it reported`;
        reject(new MachineCrashError(`${this.name} crashed: ${why}`));
      });
    });
  }

  /** Ends the host process, and with it its CPU threads. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}
