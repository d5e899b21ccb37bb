// The built-in scenarios skip the schema at start-up (defineBuiltinScenario(): zod costs about
// 0.1 s of every process that loads the catalogue), so this file holds each of them to the schema
// that users' scenario files meet through defineScenario() and the loader.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BUILTIN, soakEntries } from '../src/scenarios/catalogue.js';
import type { Scenario } from '../src/scenarios/scenario.js';
import { ScenarioError, validateScenario } from '../src/scenarios/scenario_schema.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const all = [...BUILTIN, ...soakEntries()].map((e) => e.scenario);

describe('built-in scenarios against the schema', () => {
  it.each(all.map((s) => [s.id, s] as const))('%s passes the schema users are held to', (_id, s) => {
    expect(validateScenario(s).id).toBe(s.id);
  });

  it('a built-in scenario with a seeded defect fails it (the schema is live here)', () => {
    const s = all[0]!;
    const bad: Scenario = { ...s, cpus: [{ ...s.cpus[0]!, task: 'no-such-task' }, ...s.cpus.slice(1)] };
    expect(() => validateScenario(bad)).toThrow(ScenarioError);
    expect(() => validateScenario(bad)).toThrow(/runs task 'no-such-task', which is not one of globals/);
  });

  it('loading the catalogue does not load zod (the built CLI start-up path)', () => {
    const probe =
      "import('./dist/src/index.js').then(() => console.log(Object.keys(require.cache).filter((k) => k.includes('/zod/')).length))";
    const r = spawnSync(process.execPath, ['-e', probe], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('0');
  });
});
