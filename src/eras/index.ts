// The era profiles mmrace knows, by name.
import type { EraProfile } from './profile.js';
import { v4_14 } from './v4_14.js';
import { v4_15 } from './v4_15.js';

export { applyEra, type EraProfile } from './profile.js';

export const ERAS: readonly EraProfile[] = [v4_14, v4_15];

export function eraByName(name: string): EraProfile | undefined {
  return ERAS.find((e) => e.name === name);
}
