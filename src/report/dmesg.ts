// dmesg-style text: "[    1.234567] message".
import type { LogRecord } from '../cpu/logring.js';

export function renderDmesg(records: readonly LogRecord[]): string[] {
  return records.map((r) => {
    const s = Math.floor(r.usec / 1e6);
    const us = String(r.usec % 1e6).padStart(6, '0');
    return `[${String(s).padStart(5, ' ')}.${us}] ${r.text}`;
  });
}
