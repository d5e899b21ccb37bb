// A crash report keeps the user's and the kernel's frames and drops the machinery's; a crash with
// none of those (mmrace's own bug) keeps its whole stack.
import { describe, expect, it } from 'vitest';
import type { CpuCrash } from '../src/cpu/crash.js';
import { crashText } from '../src/report/crash_text.js';

const root = process.cwd();
const crash = (stack: string): CpuCrash => ({
  cpu: 1,
  cpuName: 'thrower',
  kind: 'threw',
  name: 'TypeError',
  message: 'boom',
  stack,
});

describe('crashText', () => {
  it("keeps the user's and the kernel's frames, drops machinery, tinypool and node internals", () => {
    const text = crashText(
      crash(
        [
          'TypeError: boom',
          `    at use_it (file://${root}/test/fixtures/x.mjs:12:5)`,
          `    at down_read (${root}/src/kernel/locking/rwsem.ts:460:3)`,
          `    at runOnce (file://${root}/dist/src/cpu/cpu_loop.js:170:20)`,
          `    at Object.run (file://${root}/node_modules/tinypool/dist/entry/worker.js:1:1)`,
          '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
        ].join('\n'),
      ),
    );
    expect(text).toBe(
      [
        'CPU1 (thrower) crashed: TypeError: boom',
        '    at use_it (test/fixtures/x.mjs:12)',
        '    at down_read (kernel/locking/rwsem.ts:460)',
      ].join('\n'),
    );
  });

  it("a crash in mmrace's machinery alone keeps the whole stack", () => {
    const stack = `TypeError: boom\n    at runOnce (file://${root}/dist/src/cpu/cpu_loop.js:170:20)`;
    expect(crashText(crash(stack))).toBe(`CPU1 (thrower) crashed: ${stack}`);
  });
});
