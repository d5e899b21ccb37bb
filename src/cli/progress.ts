// A progress bar on stderr for long campaigns (DFS, many runs, the catalogue), one per variant,
// cleared when it completes. Only on a terminal: never under --json, when stderr is a pipe or a
// file, on CI (CI set), or in a --machines host (the command reports for its machines).
import { isMainThread } from 'node:worker_threads';
import { SingleBar } from 'cli-progress';

/** Updates a bar with the runs (DFS: schedules) done and the failing runs so far. */
export type ProgressUpdate = (runs: number, hits: number) => void;

export interface Progress {
  /** `total` null: the size is unknown (DFS explores until its space is done), so no bar or ETA. */
  start(label: string, total: number | null, unit: string): ProgressUpdate;
  stop(): void;
}

export function wantsProgress(json: boolean | undefined): boolean {
  return (
    !json && process.stderr.isTTY === true && isMainThread && !process.env.CI && !process.env.MMRACE_MACHINE
  );
}

export function progressBar(): Progress {
  let bar: SingleBar | null = null;
  const stop = () => {
    bar?.stop();
    bar = null;
  };
  return {
    start(label, total, unit) {
      stop();
      bar = new SingleBar({
        stream: process.stderr,
        format:
          total === null
            ? `${label}: {value} ${unit}, {hits} failing, {duration_formatted}`
            : `${label} [{bar}] {value}/{total} ${unit}, {hits} failing, {eta_formatted} left`,
        barsize: 24,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
        fps: 5,
      });
      bar.start(total ?? 0, 0, { hits: 0 });
      const b = bar;
      return (runs, hits) => b.update(runs, { hits });
    },
    stop,
  };
}

/** A bar over an experiment's samples, `label` naming the one that runs now (`mmrace bench`). */
export interface StepProgress {
  update(done: number, total: number, label: string): void;
  stop(): void;
}

/** `mmrace bench`'s bar: only when both stdout and stderr are terminals (the tables go to stdout). */
export function wantsStepProgress(json: boolean | undefined): boolean {
  return wantsProgress(json) && process.stdout.isTTY === true;
}

export function stepBar(title: string): StepProgress {
  let bar: SingleBar | null = null;
  const t0 = performance.now();
  // Time left from the samples done so far ('?' before the first: cli-progress's own ETA shows
  // garbage then).
  const left = (done: number, total: number) => {
    if (done === 0) return '?';
    const s = (((performance.now() - t0) / done) * (total - done)) / 1000;
    return s < 60 ? `${Math.ceil(s)} s` : `${Math.ceil(s / 60)} min`;
  };
  return {
    update(done, total, label) {
      if (!bar) {
        bar = new SingleBar({
          stream: process.stderr,
          format: `${title} [{bar}] {value}/{total} samples, {left} left: {label}`,
          barsize: 24,
          hideCursor: true,
          clearOnComplete: true,
          fps: 5,
        });
        bar.start(total, done, { label, left: left(done, total) });
      } else {
        bar.setTotal(total);
        bar.update(done, { label, left: left(done, total) });
      }
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
