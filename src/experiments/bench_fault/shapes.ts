// The fault-scaling experiment's loop shapes: what each fault CPU does per pass, and how a shape
// names its samples' group, its tables and its figures.

/**
 * - private: will-it-scale page_fault1 (thread mode): mmap a region of its own, write every page,
 *   munmap; every pass makes a new VMA.
 * - shared-vma: pft-threads' shape (one region mapped before the workers start, each faulting its
 *   own piece), repeated: write every page of the CPU's slice of the one VMA, then
 *   madvise(MADV_DONTNEED) of the slice; every fault of every CPU is on the same VMA.
 */
export type Shape = 'private' | 'shared-vma';
export const SHAPES: readonly Shape[] = ['private', 'shared-vma'];

export interface Churn {
  on: boolean;
  writers: number;
}

/** The samples' group: the private shape keeps its original names (churn-on, churn-off). */
export function groupOf(shape: Shape, c: Churn): string {
  const churn = c.on ? 'churn-on' : 'churn-off';
  return shape === 'private' ? churn : `${shape}-${churn}`;
}

/** Figure ids: the private shape's are the original ones (fault-scaling-per-cpu, ...). */
export function figureId(shape: Shape, what: string): string {
  return shape === 'private' ? `fault-scaling-${what}` : `fault-scaling-${shape}-${what}`;
}

/** One pass of a fault CPU, for titles. */
export function passText(shape: Shape, pages: number): string {
  return shape === 'private'
    ? `each fault CPU loops on mmap ${pages} pages / write every page / munmap (will-it-scale page_fault1, thread mode)`
    : `each fault CPU loops on a write to every page of its ${pages}-page slice of one shared VMA / madvise(MADV_DONTNEED) of the slice (pft-threads' shape, repeated)`;
}

/** What faults/s counts, per shape. */
export function ratesText(shape: Shape): string {
  return shape === 'private'
    ? "faults/s: every fault (the first of each fresh VMA too) over each CPU's whole loop time, mmap and munmap included, as will-it-scale counts"
    : "faults/s: every fault over each CPU's whole loop time, madvise(MADV_DONTNEED) included (mmap_lock for reading in every era)";
}
