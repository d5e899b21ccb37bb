// The arena: one SharedArrayBuffer, seen as Int32 words. A pointer is a word index; 0 is NULL
// (word 0 belongs to the arena header and is never handed out).
import { refreshThreadConfig } from './thread_config.js';

/**
 * The machine's layout cannot hold what was asked of it: too many or too large regions, or a
 * region defined after the layout was fixed. Bad input (a scenario's statics), not a crash.
 */
export class ArenaLayoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArenaLayoutError';
  }
}

/** One region per defineStatics and kmem_cache_create; the chunk table has one byte per chunk. */
export const MAX_REGIONS = 250;
/** Pointers are word indices in an Int32; 2^30 words (4 GiB) is also more than a host can spare. */
export const MAX_ARENA_WORDS = 0x3fffffff;

export interface RegionSpec {
  readonly name: string;
  readonly words: number;
}

export interface Region {
  readonly id: number;
  readonly name: string;
  readonly base: number;
  readonly words: number;
}

/** Regions start on chunk boundaries so that `regionOf` is one table load. */
export const CHUNK_SHIFT = 8;
const CHUNK_WORDS = 1 << CHUNK_SHIFT;
const HEADER_WORDS = CHUNK_WORDS;

/** Arena header words (word 0 is the NULL guard). */
export const ARENA_MAGIC = 0x6d6d7261; // 'mmra'
export const H_MAGIC = 1;
export const H_WORDS = 2;
export const H_GEN = 3; // bumped on every attach-visible reset

export class Arena {
  readonly sab: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly u16: Uint16Array;
  readonly u8: Uint8Array;
  readonly f64: Float64Array;
  readonly words: number;
  readonly regions: readonly Region[];
  private readonly byName = new Map<string, Region>();
  private readonly chunkRegion: Uint8Array;

  private constructor(sab: SharedArrayBuffer, specs: readonly RegionSpec[]) {
    const layout = Arena.layout(specs);
    if (sab.byteLength < layout.words * 4) {
      throw new RangeError(`arena too small: ${sab.byteLength} bytes for ${layout.words * 4}`);
    }
    this.sab = sab;
    this.words = layout.words;
    this.i32 = new Int32Array(sab, 0, layout.words);
    this.u16 = new Uint16Array(sab, 0, layout.words * 2);
    this.u8 = new Uint8Array(sab, 0, layout.words * 4);
    this.f64 = new Float64Array(sab, 0, layout.words >> 1);
    this.regions = layout.regions;
    this.chunkRegion = new Uint8Array(layout.words >> CHUNK_SHIFT).fill(0xff);
    for (const r of layout.regions) {
      this.byName.set(r.name, r);
      this.chunkRegion.fill(r.id, r.base >> CHUNK_SHIFT, (r.base + r.words) >> CHUNK_SHIFT);
    }
  }

  static layout(specs: readonly RegionSpec[]): { words: number; regions: Region[] } {
    if (specs.length > MAX_REGIONS)
      throw new ArenaLayoutError(
        `the arena needs ${specs.length} regions; at most ${MAX_REGIONS} (each defineStatics and kmem_cache_create is one)`,
      );
    let at = HEADER_WORDS;
    const regions: Region[] = [];
    const seen = new Set<string>();
    specs.forEach((s, id) => {
      if (seen.has(s.name)) throw new Error(`duplicate arena region '${s.name}'`);
      if (!Number.isInteger(s.words) || s.words <= 0)
        throw new ArenaLayoutError(`region '${s.name}' has a bad size: ${s.words} words`);
      seen.add(s.name);
      const words = Math.ceil(s.words / CHUNK_WORDS) * CHUNK_WORDS;
      regions.push({ id, name: s.name, base: at, words });
      at += words;
    });
    if (at > MAX_ARENA_WORDS) {
      const big = regions.reduce((a, b) => (b.words > a.words ? b : a));
      throw new ArenaLayoutError(
        `the arena needs ${at} words; at most ${MAX_ARENA_WORDS} (the largest region is '${big.name}', ${big.words} words)`,
      );
    }
    return { words: at, regions };
  }

  static create(specs: readonly RegionSpec[]): Arena {
    const { words } = Arena.layout(specs);
    let sab: SharedArrayBuffer;
    try {
      sab = new SharedArrayBuffer(words * 4);
    } catch (e) {
      throw new ArenaLayoutError(`cannot allocate the arena (${words} words): ${(e as Error).message}`);
    }
    const a = new Arena(sab, specs);
    a.i32[H_MAGIC] = ARENA_MAGIC;
    a.i32[H_WORDS] = words;
    return a;
  }

  static attach(sab: SharedArrayBuffer, specs: readonly RegionSpec[]): Arena {
    const a = new Arena(sab, specs);
    if (Atomics.load(a.i32, H_MAGIC) !== ARENA_MAGIC || Atomics.load(a.i32, H_WORDS) !== a.words) {
      throw new Error('arena layout mismatch between threads');
    }
    return a;
  }

  /** The region called `name`, or undefined when this machine has none (a bare CPU-layer machine). */
  findRegion(name: string): Region | undefined {
    return this.byName.get(name);
  }

  region(name: string): Region {
    const r = this.byName.get(name);
    if (!r) throw new ArenaLayoutError(missingRegion(name));
    return r;
  }

  /** Region id holding word `addr`, or -1 outside every region (header, padding, out of range). */
  regionOf(addr: number): number {
    if (addr < HEADER_WORDS || addr >= this.words) return -1;
    const id = this.chunkRegion[addr >> CHUNK_SHIFT]!;
    return id === 0xff ? -1 : id;
  }
}

/** Why a region is missing: a statics or slab cache defined after the machine was laid out. */
function missingRegion(name: string): string {
  const m = /^(data|slab):(.*)$/.exec(name);
  if (!m) return `no arena region '${name}'`;
  const call = `${m[1] === 'data' ? 'defineStatics' : 'kmem_cache_create'}('${m[2]}')`;
  return (
    `no arena region '${name}': ${call} ran after the machine was laid out (inside setup or a CPU ` +
    'program?): statics and slab caches must be defined at module top level'
  );
}

/** The arena this thread is attached to. Kernel code reads `mem.i32` directly. */
export const mem: { arena: Arena; i32: Int32Array; u16: Uint16Array } = {
  arena: undefined as unknown as Arena,
  i32: new Int32Array(0),
  u16: new Uint16Array(0),
};

export function useArena(a: Arena): void {
  mem.arena = a;
  mem.i32 = a.i32;
  mem.u16 = a.u16;
  refreshThreadConfig();
}
