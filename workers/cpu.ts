// The CPU worker of the compiled modules (dist/src): a tinypool thread that attaches to the arena
// and runs one CPU's programs. The bundle's is dist/cpu-worker.js (src/cpu/own_modules.ts).
import { cpuThreadInit, cpuWorker } from '../src/cli/cpu_thread.js';

cpuThreadInit();

export default cpuWorker;
