// Final checks the teardown entries share: after the last mmput, nothing of the process is left.
import { nr_free_pages, nr_pages } from '../mm/page_alloc.js';
import type { FinalCheck } from './scenario.js';

export const EVERY_PAGE_FREED: FinalCheck = {
  name: 'every page freed',
  check: () => {
    const used = nr_pages() - nr_free_pages();
    return used === 0 ? null : `${used} pages still allocated`;
  },
};

export const RSS_ZERO_AT_MMDROP: FinalCheck = {
  name: 'rss counters zero at __mmdrop',
  check: ({ dmesg }) => dmesg.find((l) => l.includes('Bad rss-counter')) ?? null,
};
