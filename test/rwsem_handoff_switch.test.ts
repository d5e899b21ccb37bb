// The handoff switch of `mmrace bench rwsem` (rwsem_config.ts): off, a v5.3+ waiter's
// RWSEM_WAIT_TIMEOUT never expires, so no waiter asks for a handoff; null gives the kernel back.
import { afterEach, describe, expect, it } from 'vitest';
import { rwsem_handoff_enable, rwsemWaitTimeout } from '../src/kernel/locking/rwsem_config.js';
import { RWSEM_WAIT_TIMEOUT } from '../src/kernel/locking/rwsem_types.js';
import { boot } from './helpers/boot.js';

afterEach(() => rwsem_handoff_enable(null));

describe('rwsem handoff switch', () => {
  it('off: the wait timeout is out of reach; on and the default: RWSEM_WAIT_TIMEOUT', () => {
    boot('v6.6');
    expect(rwsemWaitTimeout(RWSEM_WAIT_TIMEOUT)).toBe(RWSEM_WAIT_TIMEOUT);
    rwsem_handoff_enable(false);
    expect(rwsemWaitTimeout(RWSEM_WAIT_TIMEOUT)).toBe(0x3fffffff);
    rwsem_handoff_enable(true);
    expect(rwsemWaitTimeout(RWSEM_WAIT_TIMEOUT)).toBe(RWSEM_WAIT_TIMEOUT);
    rwsem_handoff_enable(false);
    rwsem_handoff_enable(null);
    expect(rwsemWaitTimeout(RWSEM_WAIT_TIMEOUT)).toBe(RWSEM_WAIT_TIMEOUT);
  });
});
