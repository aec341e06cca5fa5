import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chiSquareTwoSample,
  driftReport,
  featureDrift,
  jensenShannonDistance,
  ksTwoSampleSorted,
  populationStabilityIndex,
  predictionDrift,
} from './drift.ts';

describe('drift statistics', () => {
  it('PSI by hand, with the documented ε floor for an empty bin', () => {
    expect(populationStabilityIndex([0.5, 0.5], [0.25, 0.75])).toBeCloseTo(
      -0.25 * Math.log(0.5) + 0.25 * Math.log(1.5),
      15,
    );
    expect(populationStabilityIndex([0.5, 0.5, 0], [0.5, 0.4, 0.1])).toBeCloseTo(
      -0.1 * Math.log(0.8) + (0.1 - 1e-4) * Math.log(0.1 / 1e-4),
      15,
    );
  });

  it('Jensen–Shannon distance: 0 for equal, 1 for disjoint distributions (base 2), symmetric', () => {
    expect(jensenShannonDistance([1, 2, 3], [2, 4, 6])).toBe(0);
    expect(jensenShannonDistance([1, 0], [0, 1])).toBeCloseTo(1, 15);
    expect(jensenShannonDistance([0.2, 0.8], [0.6, 0.4])).toBeCloseTo(
      jensenShannonDistance([0.6, 0.4], [0.2, 0.8]),
      15,
    );
  });

  it('KS exact p-values of small textbook cases (2/C(6,3) for separated samples)', () => {
    expect(ksTwoSampleSorted([1, 2, 3], [4, 5, 6])).toEqual({
      statistic: 1,
      pValue: expect.closeTo(0.1, 14),
      method: 'exact',
    });
    const r = ksTwoSampleSorted([1, 2, 3, 4], [2.5, 5, 6]);
    expect(r.statistic).toBeCloseTo(2 / 3, 15);
    expect(r.pValue).toBeCloseTo(0.4, 14);
    expect(ksTwoSampleSorted([1, 2, 3], [1, 2, 3]).pValue).toBe(1);
  });

  it('KS: the statistic is symmetric and the exact p-value lies in [0, 1] (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 30 }),
        (a, b) => {
          const x = Float64Array.from(a).sort();
          const y = Float64Array.from(b).sort();
          const ab = ksTwoSampleSorted(x, y);
          const ba = ksTwoSampleSorted(y, x);
          expect(ab.statistic).toBe(ba.statistic);
          expect(ab.pValue).toBeCloseTo(ba.pValue, 12);
          expect(ab.pValue).toBeGreaterThanOrEqual(0);
          expect(ab.pValue).toBeLessThanOrEqual(1);
        },
      ),
    );
  });

  it('chi-square: one category gives statistic 0 and p 1; dof 1 applies Yates', () => {
    expect(chiSquareTwoSample([10], [20])).toEqual({ statistic: 0, pValue: 1, dof: 0, yates: false });
    // [[10, 20], [20, 10]]: expected 15 everywhere, |O − E| 5 → 4.5 after Yates; 4 · 4.5²/15 = 5.4.
    expect(chiSquareTwoSample([10, 20], [20, 10]).statistic).toBeCloseTo(5.4, 14);
  });

  it('finds no drift between identical samples and drift after a shift', () => {
    const ref = Array.from({ length: 2000 }, (_, i) => Math.sin(i) * 10);
    const same = featureDrift({ name: 'x', kind: 'numeric', reference: ref, current: ref });
    expect(same).toMatchObject({ psi: 0, jensenShannon: 0, verdict: 'stable' });
    expect(same.ks).toMatchObject({ statistic: 0, pValue: 1 });
    const shifted = featureDrift({ name: 'x', kind: 'numeric', reference: ref, current: ref.map((v) => v + 3) });
    expect(shifted.verdict).toBe('drift');
    expect(shifted.reason).toMatch(/^PSI .* ≥ 0.2$/);
    expect(shifted.distribution.edges).toHaveLength(9);
  });

  it('uses the p-value rule on small samples and counts a category new in the current sample', () => {
    const r = featureDrift({
      name: 'colour',
      kind: 'categorical',
      reference: ['r', 'g', 'r', 'g'],
      current: ['r', 'b', 'b', 'b'],
    });
    expect(r.distribution.categories).toEqual(['r', 'g', 'b']);
    expect(r.distribution.current).toEqual([0.25, 0, 0.75]);
    expect(r.chiSquare?.dof).toBe(2);
    expect(r.reason).toMatch(/^chi-square p-value/);
  });

  it('refuses NaN in a numeric column and a missing category, naming the column', () => {
    expect(() => featureDrift({ name: 'age', kind: 'numeric', reference: [1, 2], current: [NaN, 3] })).toThrow(
      /column 'age \(current\)' has a NaN value at row 0/,
    );
    expect(() =>
      featureDrift({
        name: 'city',
        kind: 'categorical',
        reference: ['a', undefined as unknown as string],
        current: ['a'],
      }),
    ).toThrow(/column 'city \(reference\)' has a missing value at row 1/);
    expect(() => featureDrift({ name: 'age', kind: 'numeric', reference: [], current: [1] })).toThrow(
      /no reference rows/,
    );
  });

  it('reports dataset drift by the share of drifted columns, and prediction drift by kind', () => {
    const a = Array.from({ length: 3000 }, (_, i) => (i * 7919) % 1000);
    const b = a.map((v) => v + 400);
    const report = driftReport([
      { name: 'a', kind: 'numeric', reference: a, current: b },
      { name: 'b', kind: 'numeric', reference: a, current: a },
    ]);
    expect(report).toMatchObject({ drifted: 1, share: 0.5, datasetDrift: true });
    expect(predictionDrift(Float64Array.from(a), Float64Array.from(b)).kind).toBe('numeric');
    expect(predictionDrift(['yes', 'no'], ['no', 'no']).kind).toBe('categorical');
    expect(() => driftReport([report.features[0]!, report.features[0]!] as never)).toThrow(/given twice/);
  });
});
