// What a bench experiment's CPUs hand back to the main thread: a SharedArrayBuffer of its own,
// passed in the campaign's entryArgs (shared, not copied), outside the arena so that no kernel
// region grows. Per CPU: a few float counters (operations, the CPU's measured interval), and up to
// HIST_KINDS HdrHistograms, each carried as its compressed base64 encoding (HdrHistogram's own
// interchange format) in a byte area. Also a start barrier, so that every CPU's timed interval
// begins once all of them are running (a worker wakes up tens of microseconds to milliseconds
// after another, and a CPU that starts alone runs uncontended).
import { createRequire } from 'node:module';
import type * as Hdr from 'hdr-histogram-js';

// Loaded on first use, not at start-up (~35 ms): only a bench experiment records histograms.
let hdrModule: typeof Hdr | undefined;
function hdr(): typeof Hdr {
  hdrModule ??= createRequire(import.meta.url)('hdr-histogram-js') as typeof Hdr;
  return hdrModule;
}

/** Float counters per CPU. */
export const CPU_FIELDS = 8;
/** Histograms per CPU (e.g. read waits and write waits). */
export const HIST_KINDS = 2;
/** Bytes of one histogram's encoding; a 3-digit histogram up to 60 s compresses to a few KB. */
const HIST_BYTES = 32 * 1024;

const BARRIER = 0; // Int32 words at the start: the barrier count
const HEADER_I32 = 16; // then per (cpu, kind) encoded lengths
const lenWord = (cpu: number, kind: number) => HEADER_I32 + cpu * HIST_KINDS + kind;

/** Values in ns from 1 ns to 60 s, 3 significant digits, JS (no WebAssembly in the workers). */
export function newWaitHistogram(): Hdr.Histogram {
  return hdr().build({
    bitBucketSize: 32,
    useWebAssembly: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60e9,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });
}

export type Histogram = Hdr.Histogram;

export class CpuResults {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly bytes: Uint8Array;
  private readonly f64Base: number;
  private readonly byteBase: number;

  constructor(
    readonly sab: SharedArrayBuffer,
    readonly ncpus: number,
  ) {
    this.i32 = new Int32Array(sab);
    this.f64 = new Float64Array(sab);
    this.bytes = new Uint8Array(sab);
    const headerBytes = (HEADER_I32 + ncpus * HIST_KINDS) * 4;
    this.f64Base = Math.ceil(headerBytes / 8);
    this.byteBase = (this.f64Base + ncpus * CPU_FIELDS) * 8;
  }

  /** Main thread: a zeroed block for `ncpus` CPUs. */
  static create(ncpus: number): CpuResults {
    const headerBytes = (HEADER_I32 + ncpus * HIST_KINDS) * 4;
    const size = Math.ceil(headerBytes / 8) * 8 + ncpus * CPU_FIELDS * 8 + ncpus * HIST_KINDS * HIST_BYTES;
    return new CpuResults(new SharedArrayBuffer(size), ncpus);
  }

  /**
   * CPU side: count this CPU in and wait (bounded sleeps, so more CPUs than host cores cannot
   * livelock) until every CPU has. `stop` ends the wait early (the run was stopped).
   */
  arriveAndWait(stop: () => boolean): void {
    const n = Atomics.add(this.i32, BARRIER, 1) + 1;
    if (n >= this.ncpus) {
      Atomics.notify(this.i32, BARRIER);
      return;
    }
    for (;;) {
      const seen = Atomics.load(this.i32, BARRIER);
      if (seen >= this.ncpus || stop()) return;
      Atomics.wait(this.i32, BARRIER, seen, 5);
    }
  }

  setField(cpu: number, field: number, v: number): void {
    this.f64[this.f64Base + cpu * CPU_FIELDS + field] = v;
  }

  field(cpu: number, field: number): number {
    return this.f64[this.f64Base + cpu * CPU_FIELDS + field]!;
  }

  /** CPU side, once at the end of the run: the histogram's encoding into its byte area. */
  putHistogram(cpu: number, kind: number, h: Histogram): void {
    const text = hdr().encodeIntoCompressedBase64(h);
    if (text.length > HIST_BYTES) throw new RangeError(`histogram encoding of ${text.length} bytes`);
    const at = this.byteBase + (cpu * HIST_KINDS + kind) * HIST_BYTES;
    for (let i = 0; i < text.length; i++) this.bytes[at + i] = text.charCodeAt(i);
    Atomics.store(this.i32, lenWord(cpu, kind), text.length);
  }

  /** Main thread: the CPU's histogram of `kind`, or null if it recorded none. */
  histogram(cpu: number, kind: number): Histogram | null {
    const len = Atomics.load(this.i32, lenWord(cpu, kind));
    if (len === 0) return null;
    const at = this.byteBase + (cpu * HIST_KINDS + kind) * HIST_BYTES;
    let text = '';
    for (let i = 0; i < len; i += 4096)
      text += String.fromCharCode(...this.bytes.subarray(at + i, at + Math.min(len, i + 4096)));
    return hdr().decodeFromCompressedBase64(text, 32, false);
  }
}

/** The histograms of `kind` over `cpus`, added into one (null if none recorded anything). */
export function mergedHistogram(r: CpuResults, cpus: readonly number[], kind: number): Histogram | null {
  let out: Histogram | null = null;
  for (const cpu of cpus) {
    const h = r.histogram(cpu, kind);
    if (!h) continue;
    if (!out) out = newWaitHistogram();
    out.add(h);
  }
  return out;
}
