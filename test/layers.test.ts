// The layering of ARCHITECTURE.md: each layer imports only itself and the layers before it.
// kernel/fork.ts, exit.ts and hung_task.ts (process lifetime) share mm's layer: fork.c calls exit_mmap
// and the OOM killer calls mmgrab/mmdrop, exactly as in Linux.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const ORDER = ['shm', 'cpu', 'kernel', 'mm', 'eras', 'scenarios', 'experiments', 'report', 'interface'];

function layerOf(file: string): string {
  const rel = relative(join(root, 'src'), file).replaceAll('\\', '/');
  if (rel === 'index.ts' || rel === 'bundle.ts' || rel.startsWith('cli/')) return 'interface';
  if (['kernel/fork.ts', 'kernel/exit.ts', 'kernel/hung_task.ts', 'kernel/deadlock_report.ts'].includes(rel))
    return 'mm';
  return rel.split('/')[0]!;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('layering', () => {
  const files = walk(join(root, 'src'));

  it('finds the sources', () => {
    expect(files.length).toBeGreaterThan(30);
  });

  it('no file imports a later layer', () => {
    const bad: string[] = [];
    for (const f of files) {
      const from = ORDER.indexOf(layerOf(f));
      expect(from, `unknown layer for ${f}`).toBeGreaterThanOrEqual(0);
      for (const m of readFileSync(f, 'utf8').matchAll(/^import[^'"]*['"](\.[^'"]+)['"]/gm)) {
        const target = resolve(dirname(f), m[1]!.replace(/\.js$/, '.ts'));
        const to = ORDER.indexOf(layerOf(target));
        if (to > from) bad.push(`${relative(root, f)} -> ${relative(root, target)}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('kernel core (locking, sched, printk) never reaches into mm', () => {
    const core = files.filter((f) => layerOf(f) === 'kernel');
    for (const f of core)
      expect(readFileSync(f, 'utf8'), relative(root, f)).not.toMatch(/from '\.\.\/(\.\.\/)?mm\//);
  });
});
