// The bundle's entry: scripts/bundle.mjs builds dist/mmrace.js, every module of mmrace in one file,
// from it (see src/cpu/own_modules.ts). What `import 'mmrace'` gives, and what the bundle's thread
// entries (dist/cli.js, dist/cpu-worker.js, dist/host-worker.js) call.

export { cliMain } from './cli/command.js';
export { cpuThreadInit, cpuWorker } from './cli/cpu_thread.js';
export { hostProcessMain } from './cli/machine_host.js';
export * from './index.js';
