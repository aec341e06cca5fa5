import { describe, expect, it } from 'vitest';
import { ID_PATTERN, newId } from './ids';

describe('ids', () => {
  it('are 26 Crockford base32 characters', () => {
    for (let i = 0; i < 100; i++) expect(newId()).toMatch(ID_PATTERN);
  });

  it('sort in creation order, even within one millisecond', () => {
    const now = Date.now();
    const burst = Array.from({ length: 1000 }, () => newId(now));
    expect([...burst].sort()).toEqual(burst);
    expect(new Set(burst).size).toBe(1000);
    expect(newId(now + 1) > (burst.at(-1) as string)).toBe(true);
  });

  it('encode the time in the first ten characters', () => {
    expect(newId(0).slice(0, 10)).toBe('0000000000');
    expect(newId(1).slice(0, 10)).toBe('0000000001');
    expect(newId(32).slice(0, 10)).toBe('0000000010');
  });
});
