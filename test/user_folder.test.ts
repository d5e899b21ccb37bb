// A scenario written in a user's own folder, outside the project, following the README: install
// mmrace there (`npm install <path-to-mmrace>`), write the scenario against the public API only,
// run it with `npx mmrace run`. The same in TypeScript, which must also type-check against the
// package's types. Without the install, the error says what to do.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));

// Two CPUs fault in and read the same anonymous page under mmap_sem; clean in every era.
const SCENARIO = `
import { defineScenario, down_read, up_read, mm_alloc, spawnTask, MM, __do_page_fault,
  mmap_anon_fixed, down_write, up_write, FAULT_FLAG_WRITE, VM_READ, VM_WRITE, VM_MAYREAD,
  VM_MAYWRITE } from 'mmrace';

const ADDR = 0x10000;

function touch(g) {
  down_read(g.mm + MM.mmap_sem);
  up_read(g.mm + MM.mmap_sem);
  __do_page_fault(g.mm, ADDR, FAULT_FLAG_WRITE);
}

export const scenario = defineScenario({
  id: 'my-race',
  title: 'two faults on one page',
  refs: [],
  description: 'written in a user folder',
  variants: [{ name: 'v4.15', era: 'v4.15', expected: 'clean' }],
  globals: ['mm', 'a', 'b'],
  cpus: [
    { name: 'fault a', task: 'a', run: touch },
    { name: 'fault b', task: 'b', run: touch },
  ],
  setup(g) {
    g.mm = mm_alloc();
    g.a = spawnTask('a', { mm: g.mm });
    g.b = spawnTask('b', { mm: g.mm });
    down_write(g.mm + MM.mmap_sem);
    mmap_anon_fixed(g.mm, ADDR, 4096, VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE);
    up_write(g.mm + MM.mmap_sem);
  },
  checks: [],
});
`;

const TS = SCENARIO.replace('function touch(g) {', 'function touch(g: Globals): void {')
  .replace('import { defineScenario,', 'import { type Globals, defineScenario,')
  .replace('setup(g) {', 'setup(g: Globals): void {');

function sh(cmd: string, args: string[], cwd: string, timeout = 120_000) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("a scenario in the user's own folder", () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mmrace-user-'));
    // As the README says: an ES-module package of the user's own.
    writeFileSync(join(dir, 'package.json'), '{ "private": true, "type": "module" }\n');
    writeFileSync(join(dir, 'my-race.mjs'), SCENARIO);
    writeFileSync(join(dir, 'my-race.ts'), TS);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('without mmrace installed there, the error says how to install it', () => {
    const r = sh(process.execPath, [join(root, 'dist/cli.js'), 'run', 'my-race.mjs'], dir);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/cannot find package 'mmrace'/);
    expect(r.err).toMatch(/npm link|npm install/);
  });

  it('after `npm install <path-to-mmrace>`, `npx mmrace run` runs it, in JavaScript and TypeScript', () => {
    // --ignore-scripts: dist/ is built already, and the package's `prepare` (tsc) would rewrite it
    // under the test files vitest runs beside this one (a CLI of theirs once loaded a half-written
    // dist/src/kernel/fork.js).
    const inst = sh(
      'npm',
      ['install', root, '--no-audit', '--no-fund', '--offline', '--ignore-scripts'],
      dir,
    );
    expect(inst.code, inst.err).toBe(0);
    for (const file of ['my-race.mjs', 'my-race.ts']) {
      const r = sh('npx', ['--no-install', 'mmrace', 'run', file, '--runs', '20', '--json'], dir);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const row = (JSON.parse(r.out) as { rows: { observed: string; runs: number }[] }).rows[0];
      expect(row).toMatchObject({ observed: 'clean', runs: 20 });
    }
  }, 180_000);

  it("the TypeScript scenario type-checks against the package's types, and a wrong one does not", () => {
    const tsc = join(root, 'node_modules/.bin/tsc');
    const flags = [
      '--noEmit',
      '--strict',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--types',
      'node',
      '--typeRoots',
      join(root, 'node_modules/@types'),
      '--skipLibCheck',
    ];
    const ok = sh(tsc, [...flags, 'my-race.ts'], dir);
    expect(ok.out + ok.err).toBe('');
    expect(ok.code).toBe(0);
    writeFileSync(join(dir, 'wrong.ts'), TS.replace("expected: 'clean'", "expected: 'maybe'"));
    const bad = sh(tsc, [...flags, 'wrong.ts'], dir);
    expect(bad.code).not.toBe(0);
    expect(bad.out).toMatch(/wrong\.ts.*maybe/);
  }, 60_000);
});
