// Runs an ES module script in a child process, from the checkout's root, so that it imports the
// built package (`./dist/...`, rewritten to absolute paths) on real CPU worker threads: for tests
// that drive the library API beside the CLI. stderr must stay empty; stdout is the script's JSON.
// The script reaches into the compiled modules (dist/src), so it runs with the 'mmrace-dist'
// condition: a file it loads that imports 'mmrace' gets dist/src/index.js, the same modules, not
// the bundle (src/cpu/own_modules.ts).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { DIST_CONDITION } from '../../src/cpu/own_modules.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

export function runDistScript<T>(script: string, timeoutMs = 60_000): T {
  const dir = mkdtempSync(join(tmpdir(), 'mmrace-script-'));
  const file = join(dir, 'check.mjs');
  writeFileSync(file, script.replaceAll("'./dist/", `'${root}dist/`));
  const r = spawnSync(process.execPath, [DIST_CONDITION, file], {
    cwd: root,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  rmSync(dir, { recursive: true, force: true });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as T;
}
