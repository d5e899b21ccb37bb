// Static kernel data (a module's globals, its .data/.bss): a named region with a struct layout.

import type { RegionSpec } from './arena.js';
import { mem } from './arena.js';
import { defineStruct, type Layout } from './layout.js';
import { assertLayoutOpen } from './layout_seal.js';

export interface Statics<F extends readonly string[]> {
  readonly layout: Layout<F>;
  readonly region: RegionSpec;
  /** Word address of the module's global `field` in the current arena. */
  base(): number;
  /** base(), or -1 when the current arena has no such region (a bare CPU-layer machine). */
  tryBase(): number;
}

const registry = new Map<string, RegionSpec>();

export function defineStatics<const F extends readonly string[]>(name: string, fields: F): Statics<F> {
  assertLayoutOpen(`defineStatics('${name}')`);
  const layout = defineStruct(name, fields);
  const region: RegionSpec = { name: `data:${name}`, words: Math.max(1, layout.SIZE) };
  registry.set(region.name, region);
  let cachedFor: unknown;
  let cached = 0;
  return {
    layout,
    region,
    base(): number {
      if (cachedFor !== mem.arena) {
        cached = mem.arena.region(region.name).base;
        cachedFor = mem.arena;
      }
      return cached;
    },
    tryBase(): number {
      if (cachedFor === mem.arena) return cached;
      return mem.arena.findRegion(region.name) ? this.base() : -1;
    },
  };
}

/** Every statics region defined so far, sorted by name so every thread lays them out alike. */
export function staticsRegions(): RegionSpec[] {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}
