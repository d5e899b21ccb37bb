// A machine host of `--machines N` for the compiled modules (dist/src): a worker thread that runs
// shards of the campaign on a Machine of its own (its arena and its CPU worker pool, started
// from this thread) and posts its rows to the command's thread. See src/cli/machine_host.ts. The
// bundle's is dist/host-worker.js.
import { hostThreadMain } from '../src/cli/machine_host.js';

await hostThreadMain();
