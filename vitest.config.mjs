// Tests that start a CLI or worker threads take a few seconds; on a loaded 2-core host vitest's
// default 5 s limit failed them while they were still making progress. 20 s still bounds a hang.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { testTimeout: 20_000 },
});
