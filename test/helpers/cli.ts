// Runs the built mmrace command in a child process (the real worker path, as users run it).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function mmrace(args: string[], timeoutMs = 60_000): CliResult {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

export function json<T = { ok: boolean; rows: Record<string, unknown>[] }>(r: CliResult): T {
  return JSON.parse(r.stdout) as T;
}

/** Bad input, as every command must treat it: exit 2, one line on stderr, nothing on stdout. */
export function expectUsageError(args: string[]): CliResult {
  const r = mmrace(args);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  return r;
}
