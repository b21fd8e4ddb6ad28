import { describe, expect, it } from 'vitest';
import { createFloodGuard, FloodGuardOptionsError } from '../../src/limits/flood-guard.js';

describe('the per-client-IP flood guard', () => {
  it('lets a burst through, refuses past it, and refills at the sustained rate', () => {
    let now = 1_000_000;
    const guard = createFloodGuard({ perSecond: 10, burst: 5, clock: () => now });
    const first = Array.from({ length: 8 }, () => guard.take('203.0.113.7'));
    expect(first).toEqual([true, true, true, true, true, false, false, false]);
    expect(guard.retryAfterSeconds('203.0.113.7')).toBe(1);

    now += 100; // one token at 10/s
    expect(guard.take('203.0.113.7')).toBe(true);
    expect(guard.take('203.0.113.7')).toBe(false);

    now += 10_000; // refills to the burst, never beyond
    expect(Array.from({ length: 6 }, () => guard.take('203.0.113.7')).filter(Boolean)).toHaveLength(5);
  });

  it('counts each client IP on its own', () => {
    const guard = createFloodGuard({ perSecond: 1, burst: 1, clock: () => 0 });
    expect(guard.take('198.51.100.1')).toBe(true);
    expect(guard.take('198.51.100.1')).toBe(false);
    expect(guard.take('198.51.100.2')).toBe(true);
  });

  it('forgets the least recently seen IP past maxClients', () => {
    const guard = createFloodGuard({ perSecond: 1, burst: 1, maxClients: 2, clock: () => 0 });
    guard.take('a');
    guard.take('b');
    guard.take('a'); // a is now the most recent; b the least
    guard.take('c'); // evicts b
    expect(guard.size).toBe(2);
    expect(guard.take('a')).toBe(false); // still remembered, still empty
    expect(guard.take('b')).toBe(true); // forgotten: a full bucket again
  });

  it('says how long to wait at a slow sustained rate', () => {
    const guard = createFloodGuard({ perSecond: 0.2, burst: 1, clock: () => 0 });
    guard.take('x');
    expect(guard.take('x')).toBe(false);
    expect(guard.retryAfterSeconds('x')).toBe(5);
  });

  it('refuses bad options when created', () => {
    expect(() => createFloodGuard({ perSecond: 0, burst: 1 })).toThrow(FloodGuardOptionsError);
    expect(() => createFloodGuard({ perSecond: 1, burst: 0 })).toThrow(FloodGuardOptionsError);
  });
});
