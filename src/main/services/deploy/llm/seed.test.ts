import { describe, expect, it } from 'vitest';
import { seed32 } from './seed';

describe('a request seed as llama.cpp’s 32-bit seed', () => {
  it('keeps the seeds that fit, and gives negative and larger ones seeds of their own', () => {
    expect([0, 1, 42, 2 ** 32 - 1].map(seed32)).toEqual([0, 1, 42, 2 ** 32 - 1]);
    const seeds = [-1, -5, 2 ** 32, 2 ** 32 + 1, 2 ** 40 + 1, -(2 ** 32) + 1, Number.MAX_SAFE_INTEGER];
    const mapped = seeds.map(seed32);
    for (const s of mapped) expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32).toBe(true);
    // None lands on a small seed's value or on another's (node-llama-cpp's own modulo made 1 and 2^32 + 1 alike).
    expect(new Set([...mapped, 0, 1, 5]).size).toBe(mapped.length + 3);
  });
});
