// printk's timestamp: emulated time at a high time scale passes 2^31 and 2^32 microseconds within
// one free run (a hung-task report at ~4000 s); the record keeps it whole.
import { afterEach, describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { BootRunner } from '../src/cpu/free.js';
import { logRead } from '../src/cpu/logring.js';
import { KERN_ERR, printk } from '../src/kernel/printk.js';
import { renderDmesg } from '../src/report/dmesg.js';
import { boot } from './helpers/boot.js';

afterEach(() => {
  cpuCtx.runner = new BootRunner();
});

describe('printk timestamps', () => {
  it('stay exact past 2147 s and 4295 s of emulated time', () => {
    boot();
    for (const ms of [1_000, 2_147_484, 4_294_968, 20_000_123.456]) {
      cpuCtx.runner = Object.assign(new BootRunner(), { now: () => ms });
      printk(KERN_ERR, `at ${ms}`);
    }
    const usec = logRead().records.map((r) => r.usec);
    expect(usec).toEqual([1_000_000, 2_147_484_000, 4_294_968_000, 20_000_123_456]);
    expect(renderDmesg(logRead().records).join('\n')).not.toMatch(/-/);
  });
});
