// A machine host of `--machines N` for the compiled modules (dist/src): a child process that runs
// shards of the campaign on a Machine of its own (its arena and its CPU worker pool) and sends
// its rows to the command. See src/cli/machine_host.ts. The bundle's is dist/host-worker.js.
import { hostProcessMain } from '../src/cli/machine_host.js';

hostProcessMain();
