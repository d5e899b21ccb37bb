// The bundle (scripts/bundle.mjs, src/cpu/own_modules.ts): the command and its CPU threads load
// dist/mmrace.js and never a compiled module of dist/src (a second copy of a module is a second
// `current`, a second arena view), and its functions keep their kernel names where esbuild had to
// rename them apart (two eras' rwsem_wake), since call traces print them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mmrace-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A loader hook (registered in every thread: workers inherit --import) that prints each file URL
// a thread loads.
const hook = join(dir, 'hook.mjs');
writeFileSync(
  hook,
  `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(
  'export async function load(u, c, next) { if (u.startsWith("file:")) process.stderr.write("LOADED " + u + "\\\\n"); return next(u, c); }'));
`,
);

function loaded(args: string[]): { code: number | null; files: string[] } {
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(hook).href, 'dist/cli.js', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const files = [...r.stderr.matchAll(/^LOADED file:\/\/(.*)$/gm)].map((m) => m[1]!.replace(root, ''));
  return { code: r.status, files };
}

describe('the bundle', () => {
  it('a campaign on 3 CPU threads loads dist/mmrace.js and its entries, no module of dist/src', () => {
    const r = loaded(['repro', 'oom-reaper-vs-exit-mmap-2017', '--variant', 'v4.15', '--runs', '2']);
    expect(r.code).toBe(0);
    const own = [...new Set(r.files.filter((f) => !f.includes('node_modules/')))].sort();
    expect(own).toEqual(['dist/cli.js', 'dist/cpu-worker.js', 'dist/mmrace.js']);
    // The main thread and each of the 3 CPU workers loaded the bundle once.
    expect(r.files.filter((f) => f === 'dist/mmrace.js')).toHaveLength(4);
  });

  it('a user scenario that imports mmrace gets the same bundle', () => {
    const r = loaded(['run', 'test/fixtures/seeded-hit.mjs', '--runs', '1']);
    expect(r.files).toContain('test/fixtures/seeded-hit.mjs');
    expect(r.files.filter((f) => f.startsWith('dist/src/'))).toEqual([]);
  });

  it('every function esbuild renamed apart keeps its own name (call traces print it)', () => {
    const text = readFileSync(join(root, 'dist/mmrace.js'), 'utf8');
    const renamed = [...text.matchAll(/^function ([A-Za-z_$][\w$]*?)(\d+)\(/gm)].filter(([, base]) =>
      text.includes(`function ${base}(`),
    );
    // The eras' variants share kernel names (rwsem_wake in each rw_semaphore generation).
    expect(renamed.length).toBeGreaterThan(20);
    for (const [, base, n] of renamed) expect(text).toContain(`__name(${base}${n}, "${base}")`);
  });
});
