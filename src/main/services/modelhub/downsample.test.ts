import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lttb, minMaxBuckets } from './downsample';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The textbook LTTB (Steinarsson's reference code, restated), for finite data. */
function referenceLttb(xs: number[], ys: number[], threshold: number): number[] {
  const n = xs.length;
  if (threshold >= n || threshold < 3) return threshold >= n ? range(n) : [0, n - 1];
  const out = [0];
  const every = (n - 2) / (threshold - 2);
  let a = 0;
  for (let i = 0; i < threshold - 2; i++) {
    const avgStart = Math.floor((i + 1) * every) + 1;
    const avgEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgX = 0;
    let avgY = 0;
    for (let j = avgStart; j < avgEnd; j++) {
      avgX += xs[j] as number;
      avgY += ys[j] as number;
    }
    avgX /= avgEnd - avgStart;
    avgY /= avgEnd - avgStart;
    let maxArea = -1;
    let next = 0;
    const ax = xs[a] as number;
    const ay = ys[a] as number;
    for (let j = Math.floor(i * every) + 1; j < Math.floor((i + 1) * every) + 1; j++) {
      const area = Math.abs((ax - avgX) * ((ys[j] as number) - ay) - (ax - (xs[j] as number)) * (avgY - ay));
      if (area > maxArea) {
        maxArea = area;
        next = j;
      }
    }
    out.push(next);
    a = next;
  }
  out.push(n - 1);
  return out;
}

function expectAscending(indices: number[], n: number): void {
  indices.forEach((v, i) => {
    expect(Number.isInteger(v) && v >= 0 && v < n).toBe(true);
    if (i > 0) expect(v).toBeGreaterThan(indices[i - 1] as number);
  });
}

const series = fc
  .array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 0, maxLength: 200 })
  .map((ys) => ({ xs: range(ys.length), ys }));

describe('lttb', () => {
  it('picks the point that makes the largest triangle in each bucket', () => {
    // Buckets [1, 2] and [3, 4, 5]: (2, 0) beats (1, 1) against the mean (4, 2); the spike at 3 wins the next.
    expect(lttb(range(7), [0, 1, 0, 5, 0, 1, 0], 4)).toEqual([0, 2, 3, 6]);
  });

  it('returns every index when the series fits, and just the ends for tiny thresholds', () => {
    expect(lttb([], [], 10)).toEqual([]);
    expect(lttb([5], [1], 10)).toEqual([0]);
    expect(lttb(range(5), range(5), 5)).toEqual([0, 1, 2, 3, 4]);
    expect(lttb(range(5), range(5), 2)).toEqual([0, 4]);
    expect(lttb(range(5), range(5), 1)).toEqual([0]);
    expect(lttb(range(5), range(5), 0)).toEqual([]);
    expect(lttb(range(5), range(5), 3.9)).toHaveLength(3);
  });

  it('matches the reference algorithm on finite data', () => {
    fc.assert(
      fc.property(series, fc.integer({ min: 2, max: 250 }), ({ xs, ys }, t) => {
        expect(lttb(xs, ys, t)).toEqual(referenceLttb(xs, ys, t));
      }),
      { numRuns: 300 },
    );
  });

  it('returns min(n, threshold) ascending indices, first and last included', () => {
    fc.assert(
      fc.property(series, fc.integer({ min: 2, max: 250 }), ({ xs, ys }, t) => {
        const kept = lttb(xs, ys, t);
        expect(kept).toHaveLength(Math.min(ys.length, t));
        expectAscending(kept, ys.length);
        if (ys.length > 0) {
          expect(kept[0]).toBe(0);
          expect(kept.at(-1)).toBe(ys.length - 1);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps non-finite values and still follows the shape around them', () => {
    const ys = range(200).map((i) => Math.sin(i / 10));
    ys[20] = NaN;
    ys[100] = Infinity;
    ys[101] = 50; // same bucket as the Infinity: the Infinity wins the bucket
    ys[150] = -40; // a spike after the non-finite points must still win its bucket
    const kept = lttb(range(200), ys, 20);
    expect(kept).toHaveLength(20);
    expectAscending(kept, 200);
    expect(kept).toContain(20);
    expect(kept).toContain(100);
    expect(kept).toContain(150);
    expect(kept).not.toContain(101);
  });

  it('copes with all-non-finite and non-finite end points', () => {
    const nan = new Array<number>(50).fill(NaN);
    expect(lttb(range(50), nan, 10)).toHaveLength(10);
    const ys = range(50).map((i) => i % 7);
    ys[0] = -Infinity;
    ys[49] = NaN;
    const kept = lttb(range(50), ys, 10);
    expect(kept).toHaveLength(10);
    expect(kept[0]).toBe(0);
    expect(kept.at(-1)).toBe(49);
  });

  it('refuses mismatched arrays and negative thresholds', () => {
    expect(() => lttb([1, 2], [1], 5)).toThrow(/same length/);
    expect(() => lttb([1], [1], -1)).toThrow(/threshold/);
    expect(() => lttb([1], [1], NaN)).toThrow(/threshold/);
  });
});

describe('minMaxBuckets', () => {
  it('keeps each bucket’s min and max in x order, plus the ends', () => {
    // Buckets [0..3], [4..7], [8..11].
    const ys = [5, 9, 1, 5, 5, 5, 0, 7, 3, 3, 3, 4];
    expect(minMaxBuckets(range(12), ys, 3)).toEqual([0, 1, 2, 6, 7, 8, 11]);
  });

  it('returns every index when two per bucket would not reduce the series', () => {
    expect(minMaxBuckets(range(6), range(6), 2)).toEqual(range(6));
    expect(minMaxBuckets([], [], 3)).toEqual([]);
  });

  it('keeps every spike, however far the series is reduced', () => {
    const n = 100_000;
    const ys = new Float64Array(n).map((_, i) => Math.sin(i / 1000));
    const spikes = [12_345, 54_321, 99_000];
    ys[12_345] = 100;
    ys[54_321] = -100;
    ys[99_000] = 1e9;
    const kept = minMaxBuckets(range(n), ys, 50);
    for (const s of spikes) expect(kept).toContain(s);
    expect(kept.length).toBeLessThanOrEqual(102);
  });

  it('treats ±Infinity as extremes and NaN as the largest value', () => {
    const ys = [0, 1, -Infinity, 2, 3, NaN, Infinity, 4, 0, 1, 2, 3];
    // Buckets [0..5] and [6..11]: -Infinity and NaN in the first, Infinity and 0 in the second.
    expect(minMaxBuckets(range(12), ys, 2)).toEqual([0, 2, 5, 6, 8, 11]);
  });

  it('returns at most 2·buckets + 2 ascending indices with both ends', () => {
    fc.assert(
      fc.property(series, fc.integer({ min: 0, max: 120 }), ({ xs, ys }, k) => {
        const kept = minMaxBuckets(xs, ys, k);
        expect(kept.length).toBeLessThanOrEqual(Math.min(ys.length, 2 * k + 2));
        expectAscending(kept, ys.length);
        if (ys.length > 0) {
          expect(kept[0]).toBe(0);
          expect(kept.at(-1)).toBe(ys.length - 1);
        }
        if (ys.length > 0 && k > 0) {
          // With at least one bucket, the global extremes always survive.
          const max = Math.max(...ys);
          const min = Math.min(...ys);
          expect(kept.some((i) => ys[i] === max)).toBe(true);
          expect(kept.some((i) => ys[i] === min)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('downsampling a million points (timing printed, not asserted)', () => {
  it('reduces 1,000,000 points to 1,000', () => {
    const n = 1_000_000;
    const xs = new Float64Array(n).map((_, i) => i);
    const ys = new Float64Array(n).map((_, i) => Math.exp(-i / 2e5) + Math.sin(i / 50) * 0.1);
    let start = performance.now();
    const a = lttb(xs, ys, 1000);
    const lttbMs = performance.now() - start;
    start = performance.now();
    const b = minMaxBuckets(xs, ys, 500);
    const minMaxMs = performance.now() - start;
    console.log(`downsample: lttb ${lttbMs.toFixed(1)} ms, minMaxBuckets ${minMaxMs.toFixed(1)} ms for 1e6 points`);
    expect(a).toHaveLength(1000);
    expect(b.length).toBeLessThanOrEqual(1002);
  });
});
