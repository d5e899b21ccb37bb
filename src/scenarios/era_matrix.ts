// The era matrix: one scenario's program run against several era profiles (every one, or a list),
// each era graded against what the scenario expects there (Scenario.expectFailIn).
import { parseConfigName, withConfig } from '../eras/config.js';
import { ERAS, type EraProfile, eraByName } from '../eras/index.js';
import type { Scenario, Variant, Verdict } from './scenario.js';
import { suggestSimilar } from './suggest.js';

/** The numbers of a release string ('4.14.0' -> [4, 14, 0]; '5.18.0-rc1' -> [5, 18, 0]). */
function releaseNumbers(release: string): number[] {
  return (release.match(/\d+/g) ?? []).slice(0, 3).map(Number);
}

/** a before b in release order (major, minor, patch); 0 for one release. */
export function compareReleases(a: string, b: string): number {
  const x = releaseNumbers(a);
  const y = releaseNumbers(b);
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The era profile scenario `s` runs as `name`: the era with the scenario's .config patch (its
 * `config`), under the options the name itself sets ('v4.15+PPC_BOOK3S_64=n' keeps that one).
 */
export function scenarioEra(s: Scenario, name: string): EraProfile | undefined {
  const era = eraByName(name);
  if (!era || !s.config) return era;
  const own = parseConfigName(name)?.patch ?? {};
  const patch = Object.fromEntries(Object.entries(s.config).filter(([k]) => !(k in own)));
  return Object.keys(patch).length ? withConfig(era, patch) : era;
}

/** Every era profile (ERAS) in release order; profiles of one release keep ERAS' order. */
export function erasInReleaseOrder(): EraProfile[] {
  return [...ERAS].sort((a, b) => compareReleases(a.release, b.release));
}

/**
 * The era a mistyped name probably meant: a close name of the same major version ('v4.16' ->
 * 'v4.14', 'v6' -> 'v6.1'), or null ('v9.9' is no typo of 'v6.1').
 */
export function suggestEra(word: string): string | null {
  const base = word.split('+')[0]!;
  const near = suggestSimilar(
    base,
    erasInReleaseOrder().map((e) => e.name),
  );
  return near && (near.startsWith(base) || near.split('.')[0] === base.split('.')[0]) ? near : null;
}

/**
 * Whether `era` is among `names`: itself, or its base era when it carries a .config patch
 * ('v4.14+PARAVIRT=n' is listed by 'v4.14').
 */
export function listsEra(names: readonly string[], era: string): boolean {
  return names.includes(era) || names.includes(era.split('+')[0]!);
}

/**
 * What the scenario expects of its variant `variantName` run on `era`: a declared variant with
 * that name and era says it itself; otherwise `expectFailIn` (failure in the eras it lists, clean
 * in every other); a scenario without it expects clean.
 */
export function expectedOn(s: Scenario, variantName: string, era: string): Verdict {
  const declared = s.variants.find((v) => v.name === variantName && v.era === era);
  if (declared) return declared.expected;
  if (undoesConfig(s, era)) return 'clean';
  return s.expectFailIn && listsEra(s.expectFailIn, era) ? 'reproduces' : 'clean';
}

/**
 * Whether era name `era` turns an option of the scenario's `config` the other way: the scenario
 * declares the options because its failure needs them, so without one it expects none.
 */
function undoesConfig(s: Scenario, era: string): boolean {
  const own = parseConfigName(era)?.patch ?? {};
  return Object.entries(own).some(
    ([k, v]) => s.config && k in s.config && s.config[k as keyof typeof own] !== v,
  );
}

/**
 * Whether every declared variant is named after the era it runs ({ name: 'v4.14', era: 'v4.14' }):
 * then the variants differ by era only, and the scenario's program is era-neutral.
 */
export function variantsAreEras(s: Scenario): boolean {
  return s.variants.every((v) => v.name === v.era);
}

/**
 * The variant the matrix runs on `era`: `base` (a declared variant: its name, which `setup` sees,
 * and its note) moved to that era; without `base`, the era-neutral variant, named after the era
 * (for a scenario whose variants are all named after their eras). Its expected verdict is
 * expectedOn's.
 */
export function matrixVariant(s: Scenario, era: string, base?: Variant): Variant {
  const name = base?.name ?? era;
  const note = s.variants.find((v) => v.name === name && v.era === era)?.note ?? base?.note;
  return { name, era, expected: expectedOn(s, name, era), ...(note !== undefined ? { note } : {}) };
}
