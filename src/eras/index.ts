// The era profiles mmrace knows, by name.
import { parseConfigName, withConfig } from './config.js';
import type { EraProfile } from './profile.js';
import { v4_14 } from './v4_14.js';
import { v4_15 } from './v4_15.js';
import { v6_1 } from './v6_1.js';
import { v6_6 } from './v6_6.js';

export { applyEra, type EraProfile } from './profile.js';

export const ERAS: readonly EraProfile[] = [v4_14, v4_15, v6_1, v6_6];

export function eraByName(name: string): EraProfile | undefined {
  // 'v4.14+PARAVIRT=n': the era built with another .config (config.ts).
  const c = parseConfigName(name);
  if (c) {
    const base = ERAS.find((e) => e.name === c.era);
    return base && withConfig(base, c.patch);
  }
  return ERAS.find((e) => e.name === name);
}
