import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  abTestProportions,
  meanArmOf,
  peekingCheck,
  probabilityToBeatBeta,
  probabilityToBeatNormal,
  sampleSizeMeans,
  sampleSizeProportions,
  twoProportionZTest,
  welchTTest,
} from './ab.ts';

describe('A/B statistics', () => {
  it('two-proportion z-test by hand', () => {
    const r = twoProportionZTest({ successes: 100, n: 1000 }, { successes: 130, n: 1000 });
    const pooled = 0.115;
    const z = 0.03 / Math.sqrt(pooled * (1 - pooled) * 0.002);
    expect(r.statistic).toBeCloseTo(z, 14);
    expect(r.difference).toBeCloseTo(0.03, 15);
    expect(r.relativeDifference).toBeCloseTo(0.3, 14);
    const se = Math.sqrt((0.1 * 0.9 + 0.13 * 0.87) / 1000);
    expect(r.interval[0]).toBeCloseTo(0.03 - 1.959963984540054 * se, 14);
    expect(r.pValue).toBeCloseTo(0.0359, 3);
  });

  it("Welch's t-test: df equals n − 1 ... for equal arms, 2(n − 1); sign follows B − A", () => {
    const a = { mean: 1, variance: 2, n: 10 };
    const b = { mean: 2, variance: 2, n: 10 };
    const r = welchTTest(a, b);
    expect(r.df).toBeCloseTo(18, 12);
    expect(r.statistic).toBeCloseTo(1 / Math.sqrt(0.4), 14);
    expect(welchTTest(b, a).statistic).toBeCloseTo(-r.statistic, 14);
    expect(welchTTest(b, a).pValue).toBeCloseTo(r.pValue, 14);
    expect(() => welchTTest({ mean: 1, variance: 0, n: 5 }, { mean: 1, variance: 0, n: 5 })).toThrow(/zero variance/);
    expect(() => welchTTest({ mean: 1, variance: 1, n: 1 }, b)).toThrow(/at least 2 rows/);
  });

  it('meanArmOf uses the sample variance and refuses NaN, naming the arm', () => {
    expect(meanArmOf([1, 2, 3, 4])).toEqual({ mean: 2.5, variance: 5 / 3, n: 4 });
    expect(() => meanArmOf([1, NaN], 'revenue B')).toThrow(/column 'revenue B' has a non-finite value at row 1/);
  });

  it('sample sizes: the textbook 3,841 per arm for 10% → 12%, and 63 for half a standard deviation', () => {
    expect(sampleSizeProportions(0.1, 0.02)).toBe(3841);
    expect(sampleSizeProportions(0.1, 0.2, { relative: true })).toBe(3841);
    expect(sampleSizeMeans(1, 0.5)).toBe(63);
    expect(sampleSizeProportions(0.1, 0.02, { power: 0.9 })).toBeGreaterThan(3841);
    expect(() => sampleSizeProportions(0.99, 0.02)).toThrow(/in \(0, 1\)/);
  });

  it('flags a result as not final until the planned size is reached (peeking), and without a plan', () => {
    expect(peekingCheck(1000, 400, 900)).toMatchObject({
      final: false,
      progress: 0.4,
      warning: expect.stringMatching(/400 of 1000/),
    });
    expect(peekingCheck(1000, 1000, 1200)).toEqual({ final: true, progress: 1 });
    expect(peekingCheck(undefined, 10, 10).final).toBe(false);
    const r = abTestProportions({ successes: 10, n: 100 }, { successes: 30, n: 100 }, { plannedPerArm: 500 });
    expect(r.test.significant).toBe(true);
    expect(r.peeking.final).toBe(false);
  });

  it('probability to beat: ½ for identical arms, exact and Monte Carlo agree, P(B > A) + P(A > B) = 1', () => {
    expect(probabilityToBeatBeta({ successes: 7, n: 20 }, { successes: 7, n: 20 }).probability).toBeCloseTo(0.5, 12);
    const a = { successes: 30, n: 200 };
    const b = { successes: 45, n: 210 };
    const exact = probabilityToBeatBeta(a, b);
    expect(exact.method).toBe('exact');
    const mc = probabilityToBeatBeta(a, b, { method: 'monte-carlo', samples: 100_000, seed: 9 });
    expect(Math.abs(mc.probability - exact.probability)).toBeLessThan(0.006);
    expect(probabilityToBeatBeta(a, b, { method: 'monte-carlo', samples: 1000, seed: 9 })).toEqual(
      probabilityToBeatBeta(a, b, { method: 'monte-carlo', samples: 1000, seed: 9 }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), (x, y) => {
        const p = { successes: x, n: 40 };
        const q = { successes: y, n: 45 };
        expect(probabilityToBeatBeta(p, q).probability + probabilityToBeatBeta(q, p).probability).toBeCloseTo(1, 10);
      }),
      { numRuns: 40 },
    );
    expect(
      probabilityToBeatNormal({ mean: 1, variance: 1, n: 100 }, { mean: 1.2, variance: 1, n: 100 }).probability,
    ).toBeCloseTo(0.9213503964748575, 12);
  });
});
