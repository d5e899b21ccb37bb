// npm run bench -- experiments [flags]: every experiment of `mmrace bench` (src/experiments/bench/)
// with its defaults, one after the other, each as the command runs it (its tables, its findings
// beside the published figures). Extra flags go to every experiment, e.g. `--out DIR` (each
// experiment then writes into DIR/<name>) or `--rounds 3`.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadExperiments } from '../dist/src/experiments/registry.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function run(args = []) {
  const out = args.indexOf('--out');
  for (const e of await loadExperiments()) {
    const a = [...args];
    if (out >= 0 && a[out + 1]) a[out + 1] = path.join(a[out + 1], e.name);
    console.log(`\n=== mmrace bench ${e.name} ${a.join(' ')}`.trimEnd());
    const r = spawnSync(process.execPath, ['dist/src/cli/main.js', 'bench', e.name, ...a], {
      cwd: root,
      stdio: 'inherit',
    });
    if (r.status !== 0) process.exitCode = r.status ?? 1;
  }
}
