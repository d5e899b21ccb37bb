// A user's scenario file is input: anything wrong with it is one line on stderr naming the file and
// the field, exit 2, no stack. And the ways of writing one that work: a plain object, CommonJS,
// TypeScript (bundled by esbuild with the user's own .ts files).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ERAS } from '../src/eras/index.js';
import { Arena, ArenaLayoutError } from '../src/shm/arena.js';
import { expectOneLine, json, mmrace, mmraceAlone } from './helpers/cli.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const bad = (f: string) => `test/fixtures/bad/${f}`;

/** One `mmrace:` line, exit 2, no stack, nothing on stdout, no process left in the command's group. */
async function expectBadInput(args: string[], ...parts: (string | RegExp)[]): Promise<string> {
  const r = await mmraceAlone(args);
  expectOneLine(r, 2, /^mmrace: /);
  expect(r.stdout).toBe('');
  for (const p of parts) expect(r.stderr).toMatch(p);
  return r.stderr;
}

describe.concurrent('a bad scenario file is one line and exit 2', () => {
  it.each([
    // The known eras are ERAS' (more are added): no suggestion, v9.9 being no typo of any.
    [
      'unknown-era.mjs',
      `scenario my-race: variants[1].era: unknown era 'v9.9' (known: ${ERAS.map((e) => e.name).join(', ')})`,
    ],
    ['duplicate-variant.mjs', "scenario my-race: variants: duplicate variant name 'v4.14'"],
    ['expected-maybe.mjs', "variants[0].expected: expected 'reproduces' or 'clean', got 'maybe'"],
    [
      'no-expected-symptom.mjs',
      'scenario my-race: symptoms.expected: no expected symptom: give at least one',
    ],
    ['missing-setup.mjs', 'scenario my-race: setup: expected a function'],
    ['extra-key.mjs', "unknown key 'setpu' (did you mean 'setup'?)"],
    ['plain-object.mjs', "cpus[0].task: CPU 'cpu0' runs task 'b', which is not one of globals (a)"],
    ['too-many-cpus.mjs', 'cpus: 17 CPUs; the machine has at most 16'],
    ['no-export.mjs', 'does not export a scenario'],
    ['missing-module.mjs', 'cannot find module test/fixtures/bad/no-such-helper.mjs'],
    ['throws-at-top-level.mjs', 'threw at top level: RangeError: the table is too big'],
    // The count grows with the kernel's own statics: only the limit is fixed.
    ['too-many-statics.mjs', /the arena needs (2[5-9]\d|[3-9]\d\d) regions; at most 250 /],
    [
      'too-large-cache.mjs',
      /the arena needs \d+ words; at most 1073741823 \(the largest region is 'slab:huge_cache'/,
    ],
  ])('%s', async (file, problem) => {
    const msg = await expectBadInput(['run', bad(file), '--runs', '2'], problem);
    expect(msg.startsWith(`mmrace: ${bad(file)}: `)).toBe(true);
  });

  it('a module that exports no scenario says what it exports', async () => {
    await expectBadInput(['run', bad('no-export.mjs')], "it exports 'VERSION', 'helper')");
  });

  it('a throw at top level names the line that threw', async () => {
    await expectBadInput(['run', bad('throws-at-top-level.mjs')], `(at ${bad('throws-at-top-level.mjs')}:5)`);
  });

  it('a syntax error names file:line:column (JavaScript and TypeScript)', async () => {
    await expectBadInput(
      ['run', bad('syntax-error.mjs')],
      `${bad('syntax-error.mjs')}:2:12: SyntaxError: Unexpected token`,
    );
    await expectBadInput(['run', bad('syntax-error.ts')], `${bad('syntax-error.ts')}:2:20: Unexpected ";"`);
  });

  it('statics defined in setup are refused', async () => {
    await expectBadInput(
      ['run', bad('statics-in-setup.mjs'), '--runs', '2'],
      "defineStatics('late_counter') inside setup or a CPU program: statics and slab caches must be defined at module top level",
      bad('statics-in-setup.mjs'),
    );
  });

  it.each([
    ['test/fixtures', 'is a directory'],
    ['test/fixtures/nope.ts', 'no such scenario file'],
    ['README.md', "unsupported extension '.md': scenario files must be JavaScript modules (.js, .mjs, .cjs)"],
  ])('%s', async (file, problem) => {
    await expectBadInput(['run', file], `${file}: ${problem}`);
  });
});

describe.concurrent("'mmrace' not installed where the scenario is", () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmrace-scenario-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const body = "import { defineScenario } from 'mmrace';\nexport const scenario = defineScenario({});\n";

  it.each(['a.mjs', 'b.ts'])('%s: says how to make it importable', async (name) => {
    writeFileSync(join(dir, name), body);
    await expectBadInput(
      ['run', join(dir, name)],
      `${join(dir, name)}: cannot find package 'mmrace' from ${dir}: run 'npm link mmrace' there`,
    );
  });

  it('with node_modules/mmrace linked to the checkout, a TypeScript file there runs', () => {
    const linked = mkdtempSync(join(tmpdir(), 'mmrace-scenario-linked-'));
    try {
      // What 'npm link mmrace' leaves: node_modules/mmrace, a link to the checkout.
      mkdirSync(join(linked, 'node_modules'));
      symlinkSync(root, join(linked, 'node_modules', 'mmrace'), 'dir');
      writeFileSync(
        join(linked, 'r.ts'),
        [
          "import { defineScenario, type Globals, spawnTask } from 'mmrace';",
          'export const scenario = defineScenario({',
          "  id: 'linked', title: 't', refs: [], description: 'd',",
          "  variants: [{ name: 'v4.15', era: 'v4.15', expected: 'clean' }],",
          "  globals: ['a'],",
          "  cpus: [{ name: 'cpu0', task: 'a', run: (_g: Globals) => {} }],",
          "  setup(g: Globals) { g.a = spawnTask('a'); },",
          '});',
          '',
        ].join('\n'),
      );
      const r = mmrace(['run', join(linked, 'r.ts'), '--runs', '2', '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(json(r).rows[0]).toMatchObject({ id: 'linked', observed: 'clean', runs: 2 });
    } finally {
      rmSync(linked, { recursive: true, force: true });
    }
  });
});

describe('scenario files that work', () => {
  it.each([
    ['test/fixtures/plain-object-ok.mjs', 'plain-object-ok'],
    ['test/fixtures/cjs-scenario.cjs', 'cjs-scenario'],
    ['test/fixtures/ts-scenario.ts', 'ts-scenario'],
  ])('%s runs clean', (file, id) => {
    const r = mmrace(['run', file, '--runs', '2', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const row = json(r).rows[0]!;
    expect(row).toMatchObject({ id, observed: 'clean', runs: 2, checkFailures: 0 });
  });
});

describe('the arena names what is missing from it', () => {
  it('a statics region looked up but never laid out', () => {
    const a = Arena.create([{ name: 'data:present', words: 4 }]);
    expect(() => a.region('data:late')).toThrow(ArenaLayoutError);
    expect(() => a.region('data:late')).toThrow(
      /no arena region 'data:late': defineStatics\('late'\) ran after the machine was laid out .*module top level/,
    );
    expect(() => a.region('slab:late')).toThrow(/kmem_cache_create\('late'\)/);
  });
});
