// A machine host of `--machines N`: a worker thread that runs one shard of the campaign on a
// Machine of its own (its arena and its CPU worker pool, started from this thread) and posts its
// rows to the command's thread. See src/cli/machine_host.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { type HostTask, runHost } from '../src/cli/machine_host.js';

// As the command's own thread does (cli/main.ts): kernel reports' call traces are deep stacks.
Error.stackTraceLimit = 64;

parentPort!.postMessage(await runHost(workerData as HostTask));
