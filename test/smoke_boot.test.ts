import { describe, expect, it } from 'vitest';
import { cpuCtx } from '../src/cpu/context.js';
import { mm_alloc, mmput, spawnTask } from '../src/kernel/fork.js';
import { nr_free_pages, nr_pages } from '../src/mm/page_alloc.js';
import { boot, reports } from './helpers/boot.js';

describe('boot helper', () => {
  it('creates and frees an mm with no reports', () => {
    const { dmesg } = boot();
    const mm = mm_alloc();
    cpuCtx.current = spawnTask('t');
    expect(nr_pages() - nr_free_pages()).toBe(1); // the pgd
    mmput(mm);
    expect(nr_free_pages()).toBe(nr_pages());
    expect(reports(dmesg())).toEqual([]);
  });
});
