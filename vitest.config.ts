// Tests that start a CLI or worker threads take a few seconds; on a loaded 2-core host vitest's
// default 5 s limit failed them while they were still making progress. 20 s still bounds a hang.
// Test files run one at a time (vitest's default on 2 cores). Two at once took CI from 11 to 8
// minutes, but free-mode timing tests then flaked: readers-deadlock's hung-task report once
// missed the writer, which blocked one khungtaskd interval after the readers (2026-12-06).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { testTimeout: 20_000 },
});
