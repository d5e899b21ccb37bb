// The era profiles mmrace knows, by name, in release order.
import { parseConfigName, withConfig } from './config.js';
import type { EraProfile } from './profile.js';
import { rfc_2022_05 } from './rfc_2022_05.js';
import { rfc_2022_09, rfc_2022_09_seq2 } from './rfc_2022_09.js';
import { v4_13, v4_13_rc4 } from './v4_13.js';
import { v4_14 } from './v4_14.js';
import { v4_15 } from './v4_15.js';
import { v4_17 } from './v4_17.js';
import { v5_15 } from './v5_15.js';
import { v5_15_rc1 } from './v5_15_rc1.js';
import { v5_17 } from './v5_17.js';
import { v5_17_rc1 } from './v5_17_rc1.js';
import { v6_1 } from './v6_1.js';
import { v6_4, v6_4_norcu } from './v6_4.js';
import { v6_6 } from './v6_6.js';
import { v6_15 } from './v6_15.js';

export { applyEra, type EraProfile } from './profile.js';

export const ERAS: readonly EraProfile[] = [
  v4_13,
  v4_14,
  v4_15,
  v4_17,
  v5_15_rc1,
  v5_15,
  v5_17_rc1,
  v5_17,
  rfc_2022_05,
  v6_1,
  rfc_2022_09,
  v6_4,
  v6_6,
  v6_15,
];

/**
 * Named hazard variants, found by eraByName() but not in the era matrix (ERAS): 'v6.4-norcu'
 * (Jann Horn's unlock-then-free), 'rfc-2022-09-seq2' (mm_lock_seq wrapping after four sections).
 */
export const HAZARD_ERAS: readonly EraProfile[] = [v4_13_rc4, v6_4_norcu, rfc_2022_09_seq2];

export function eraByName(name: string): EraProfile | undefined {
  // 'v4.14+PARAVIRT=n': the era built with another .config (config.ts).
  const c = parseConfigName(name);
  if (c) {
    const base = ERAS.find((e) => e.name === c.era);
    return base && withConfig(base, c.patch);
  }
  return ERAS.find((e) => e.name === name) ?? HAZARD_ERAS.find((e) => e.name === name);
}
