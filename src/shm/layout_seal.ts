// The machine's layout is fixed once the main thread lays out the arena: a statics region or slab
// cache defined after that (in a scenario's setup, say) would have no place in it, and every
// thread must see the same regions. Kernel modules and scenario files define them at top level.
import { ArenaLayoutError } from './arena.js';

let sealed = false;

/** Called when the machine's regions are laid out (kernel_image.ts machineRegions). */
export function sealLayout(): void {
  sealed = true;
}

/** `call` names the definition, "defineStatics('foo')", for the error. */
export function assertLayoutOpen(call: string): void {
  if (sealed)
    throw new ArenaLayoutError(
      `${call} inside setup or a CPU program: statics and slab caches must be defined at module top level`,
    );
}
