// The timed group of vitest.config.ts names files by path: a name that matches no file would
// silently leave that file in the two-at-once group.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TIMED } from '../vitest.config.js';

describe('vitest groups', () => {
  it('every file of the timed group exists', () => {
    expect(TIMED.length).toBeGreaterThan(0);
    for (const f of TIMED) expect(existsSync(f), f).toBe(true);
  });
});
