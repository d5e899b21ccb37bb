// Runs the built mmrace command in a child process (the real worker path, as users run it).
import { execFile, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { DIST_CONDITION } from '../../src/cpu/own_modules.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function mmrace(args: string[], timeoutMs = 60_000, env: Record<string, string> = {}): CliResult {
  return spawnCli(['dist/cli.js', ...args], timeoutMs, env);
}

/**
 * The command of the compiled modules (dist/src/cli/main.js, with the 'mmrace-dist' condition): for
 * scenario files that import mmrace's internals from dist/src, which the bundle's threads would
 * load as second copies of its modules (src/cpu/own_modules.ts).
 */
export function mmraceDist(args: string[], timeoutMs = 60_000): CliResult {
  return spawnCli([DIST_CONDITION, 'dist/src/cli/main.js', ...args], timeoutMs, {});
}

function spawnCli(argv: string[], timeoutMs: number, env: Record<string, string>): CliResult {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, argv, {
    cwd: root,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

// A test file's CLI children (its `it.concurrent` cases), at most one per core at once
// (MMRACE_TEST_CHILDREN sets it): more would only take turns on the cores and stretch each child
// towards its test's time limit.
const CHILD_SLOTS = Number(process.env.MMRACE_TEST_CHILDREN ?? Math.max(1, availableParallelism()));
let childrenRunning = 0;
const waitingForSlot: (() => void)[] = [];

/** Runs `start` once a child slot is free: at most one child process per core at once. */
async function inChildSlot<T>(start: () => Promise<T>): Promise<T> {
  while (childrenRunning >= CHILD_SLOTS) await new Promise<void>((res) => waitingForSlot.push(res));
  childrenRunning++;
  try {
    return await start();
  } finally {
    childrenRunning--;
    waitingForSlot.shift()?.();
  }
}

/** `mmrace(...)` as a promise, for `it.concurrent` tests. */
export function mmraceAsync(
  args: string[],
  timeoutMs = 60_000,
  env: Record<string, string> = {},
): Promise<CliResult> {
  return inChildSlot(
    () =>
      new Promise<CliResult>((res) => {
        const t0 = performance.now();
        const how = {
          cwd: root,
          encoding: 'utf8' as const,
          timeout: timeoutMs,
          maxBuffer: 64 << 20,
          env: { ...process.env, NO_COLOR: '1', ...env },
        };
        const child = execFile(process.execPath, ['dist/cli.js', ...args], how, (_e, stdout, stderr) =>
          res({ code: child.exitCode, stdout, stderr, ms: performance.now() - t0 }),
        );
        child.stdin?.end();
      }),
  );
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

export interface AloneResult extends CliResult {
  /** The command was killed by the helper's time limit (it hung). */
  timedOut: boolean;
  /** A process of the command's process group was still alive after it exited. */
  leftover: boolean;
}

/**
 * Runs a command line in its own process group (`mmrace ...` args, or a shell pipeline with
 * `{ shell }` where `MMRACE` stands for the built command), waits for it, then checks that no
 * process of that group is left running.
 */
export function mmraceAlone(
  args: string[],
  opts: { shell?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<AloneResult> {
  return inChildSlot(() => runAlone(args, opts));
}

async function runAlone(
  args: string[],
  opts: { shell?: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<AloneResult> {
  const t0 = performance.now();
  const cmd = `${process.execPath} dist/cli.js`;
  const how = { cwd: root, detached: true, env: { ...process.env, NO_COLOR: '1', ...opts.env } };
  const child = opts.shell
    ? spawn('bash', ['-c', opts.shell.replaceAll('MMRACE', cmd)], how)
    : spawn(process.execPath, ['dist/cli.js', ...args], how);
  child.stdin?.end();
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    process.kill(-child.pid!, 'SIGKILL');
  }, opts.timeoutMs ?? 60_000);
  // Its output is all read once the pipes close; a process left holding them keeps them open.
  const closed = new Promise((res) => child.on('close', res));
  const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  clearTimeout(timer);
  await Promise.race([closed, new Promise((res) => setTimeout(res, 2000))]);
  let leftover = groupAlive(child.pid!);
  for (let i = 0; i < 20 && leftover; i++) {
    await new Promise((r) => setTimeout(r, 50));
    leftover = groupAlive(child.pid!);
  }
  if (leftover) process.kill(-child.pid!, 'SIGKILL');
  return { code, stdout, stderr, ms: performance.now() - t0, timedOut, leftover };
}

/**
 * Whether a process of group `pgid` still runs. A zombie is not running: it has exited and only
 * waits to be reaped (esbuild's killed service, once mmrace exited before reaping it, waits for
 * init, which here can take a second).
 */
function groupAlive(pgid: number): boolean {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after it.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') return true;
  }
  return false;
}

/** Bad input as the front door promises it: exit 2, one `mmrace:` line, no stack, nothing left. */
export function expectOneLine(r: AloneResult, code: number, message: RegExp): void {
  expect(r.timedOut).toBe(false);
  expect(r.leftover).toBe(false);
  expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code, stderr: expect.stringMatching(message) });
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^mmrace: /);
  expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
}
