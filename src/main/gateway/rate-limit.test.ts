import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit';

describe('rate limiter', () => {
  it('allows max requests per window per key, then says how long to wait', () => {
    const limiter = new RateLimiter(3, 10_000);
    expect([0, 1, 2].map((i) => limiter.hit('a', 1000 + i))).toEqual([0, 0, 0]);
    expect(limiter.hit('a', 1500)).toBe(10);
    expect(limiter.hit('a', 9500)).toBe(2);
    expect(limiter.hit('b', 1500)).toBe(0);
    expect(limiter.hit('a', 11_000)).toBe(0);
  });
});
