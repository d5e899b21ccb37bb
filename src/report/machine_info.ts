// The host a benchmark ran on, for every report: CPU model, cores, Node, load, mmrace's commit.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MachineInfo {
  cpuModel: string;
  /** os.cpus().length */
  cpus: number;
  /** os.availableParallelism(): the cores this process may use; the oversubscription limit. */
  cores: number;
  node: string;
  v8: string;
  platform: string;
  arch: string;
  totalMemMb: number;
  /** 1-, 5-, 15-minute load averages when the report was made. */
  loadavg: number[];
  mmraceVersion: string | null;
  /** `git rev-parse HEAD` of the checkout mmrace runs from, with `-dirty` if it has changes; null outside git. */
  mmraceCommit: string | null;
  date: string;
}

/** The folder with mmrace's package.json, from src/report/ or dist/src/report/. */
function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return null;
}

function git(root: string, args: string[]): string | null {
  try {
    return execFileSync('git', args, {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 3000,
    }).trim();
  } catch {
    return null;
  }
}

export function machineInfo(): MachineInfo {
  const root = packageRoot();
  let version: string | null = null;
  let commit: string | null = null;
  if (root) {
    try {
      version =
        (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ??
        null;
    } catch {}
    commit = git(root, ['rev-parse', 'HEAD']);
    if (commit && git(root, ['status', '--porcelain', '--untracked-files=no'])) commit += '-dirty';
  }
  return {
    cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown CPU',
    cpus: os.cpus().length,
    cores: os.availableParallelism(),
    node: process.version,
    v8: process.versions.v8,
    platform: os.platform(),
    arch: os.arch(),
    totalMemMb: Math.round(os.totalmem() / 2 ** 20),
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    mmraceVersion: version,
    mmraceCommit: commit,
    date: new Date().toISOString(),
  };
}

/** One line: `host: <model>, 2 cores, node v20.20.2, load 1.10, mmrace 0.1.0 (abc1234)`. */
export function machineLine(m: MachineInfo): string {
  const commit = m.mmraceCommit
    ? ` (${m.mmraceCommit.slice(0, 12)}${m.mmraceCommit.endsWith('-dirty') ? '-dirty' : ''})`
    : '';
  return (
    `host: ${m.cpuModel}, ${m.cores} core${m.cores === 1 ? '' : 's'}, node ${m.node}, ` +
    `1-min load ${m.loadavg[0]?.toFixed(2)}, mmrace ${m.mmraceVersion ?? '?'}${commit}`
  );
}
