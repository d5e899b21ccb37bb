// zod on first use rather than at start-up: it costs ~70 ms to load, and most commands (and every
// CPU worker) never check a document. Its CommonJS build loads synchronously, so the checks stay
// plain functions.
import { createRequire } from 'node:module';
import type * as ZodModule from 'zod';

let zod: typeof ZodModule.z | undefined;

export function loadZod(): typeof ZodModule.z {
  zod ??= (createRequire(import.meta.url)('zod') as typeof ZodModule).z;
  return zod;
}
