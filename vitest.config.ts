// Tests that start a CLI or worker threads take a few seconds; on a loaded 2-core host vitest's
// default 5 s limit failed them while they were still making progress. 20 s still bounds a hang.
// Two test files at once, on a 2-core host too (vitest's default there is one): most of a file's
// time is CLI children starting up (module loading, one core each), which the second core can
// overlap. Every test's bound already holds at a load of 7 (a fresh clone's CI beside another
// full run passed, 2026-12-06).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { testTimeout: 20_000, maxWorkers: 2 },
});
