// npm run bench -- experiments [flags]: every experiment of `mmrace bench` (src/experiments/bench/)
// with its defaults, one after the other, each as the command runs it (its tables, its findings
// beside the published figures). Extra flags go to every experiment, e.g. `--out DIR` (each
// experiment then writes into DIR/<name>) or `--rounds 3`. Returns each experiment's headlines
// (its published shapes as ratios, from its bench.json) for the summary table.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { summaryRow, times } from './bench-summary.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The experiments, as `mmrace bench` lists them. Not loadExperiments(): its modules define statics,
 * which a process that already laid out a machine (npm run bench's other benchmarks) refuses.
 */
function experimentNames() {
  const r = spawnSync(process.execPath, ['dist/cli.js', 'bench'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mmrace bench: exit ${r.status}: ${r.stderr.trim()}`);
  return [...r.stdout.matchAll(/^ {2}(\S+) {2}/gm)].map((m) => m[1]);
}

export async function run(args = []) {
  const a0 = [...args];
  let tmp = null;
  if (!a0.includes('--out')) {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'mmrace-bench-'));
    a0.push('--out', tmp);
  }
  const out = a0.indexOf('--out');
  const rows = [];
  try {
    for (const name of experimentNames()) {
      const a = [...a0];
      a[out + 1] = path.join(a0[out + 1], name);
      console.log(`\n=== mmrace bench ${name} ${a.join(' ')}`.trimEnd());
      const r = spawnSync(process.execPath, ['dist/cli.js', 'bench', name, ...a], {
        cwd: root,
        stdio: 'inherit',
      });
      if (r.status !== 0) process.exitCode = r.status ?? 1;
      const file = path.join(a[out + 1], 'bench.json');
      if (r.status !== 0 || !existsSync(file)) {
        rows.push(summaryRow('experiments', name, `failed (exit ${r.status})`, '', '', false));
        continue;
      }
      for (const h of JSON.parse(readFileSync(file, 'utf8')).headlines ?? [])
        rows.push(
          summaryRow(
            'experiments',
            h.figure,
            h.ratio === null ? 'not measured' : times(h.ratio),
            h.baseline,
            `published: ${h.published}`,
            null,
            h.why ?? null,
          ),
        );
    }
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}
