import { describe, expect, it } from 'vitest';
import { RandomStream } from './random.ts';
import { argsortFloat64, sortFloat64 } from './stats-util.ts';

/** Values of every kind the radix passes treat apart: signs, zeros, subnormals, infinities, ties, wide exponents. */
function awkwardValues(n: number): Float64Array {
  const r = new RandomStream(11);
  const special = [0, -0, 5e-324, -5e-324, Infinity, -Infinity, 1, -1, 0.5, 1e300, -1e-300];
  return Float64Array.from({ length: n }, (_, i) => {
    if (i % 7 === 0) return special[Math.floor(r.uniform() * special.length)]!;
    if (i % 5 === 0) return Math.round(r.normal() * 4) / 4; // ties
    return r.normal() * 10 ** Math.floor(r.uniform() * 20 - 10);
  });
}

describe('radix sorts of float64', () => {
  it('sortFloat64 orders values as the typed array sort does, −0 before +0, in place', () => {
    const values = awkwardValues(70_000);
    const expected = values.slice().sort();
    const sorted = sortFloat64(values);
    expect(sorted).toBe(values);
    expect(Array.from(sorted, (v) => (Object.is(v, -0) ? '-0' : v))).toEqual(
      Array.from(expected, (v) => (Object.is(v, -0) ? '-0' : v)),
    );
  });

  it('argsortFloat64 is a stable permutation that sorts the values, −0 before +0', () => {
    const values = awkwardValues(70_000);
    const order = argsortFloat64(values);
    expect(Array.from(order).sort((a, b) => a - b)).toEqual(Array.from(values.keys()));
    for (let j = 1; j < order.length; j++) {
      const [a, b] = [values[order[j - 1]!]!, values[order[j]!]!];
      expect(a <= b && !(Object.is(a, 0) && Object.is(b, -0)), `position ${j}: ${a} before ${b}`).toBe(true);
      if (Object.is(a, b)) expect(order[j - 1]!).toBeLessThan(order[j]!);
    }
  });
});
