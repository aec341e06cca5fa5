import { describe, expect, it } from 'vitest';
import { histogram, regressionMetrics } from './regression.ts';

describe('regression metrics', () => {
  it('computes a hand-checked example', () => {
    const m = regressionMetrics({ actual: [3, -0.5, 2, 7], predicted: [2.5, 0, 2, 8] });
    expect(m.mae).toBeCloseTo(0.5, 15);
    expect(m.mse).toBeCloseTo(0.375, 15);
    expect(m.rmse).toBeCloseTo(Math.sqrt(0.375), 15);
    // sklearn's documented example: r2_score([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]) = 0.948...
    expect(m.r2).toBeCloseTo(0.9486081370449679, 14);
    expect(m.residuals).toMatchObject({ min: -1, max: 0.5, median: -0.25, mean: -0.25 });
  });

  it('gives R² 1 for exact predictions of a constant and 0 otherwise (sklearn force_finite)', () => {
    expect(regressionMetrics({ actual: [2, 2], predicted: [2, 2] }).r2).toBe(1);
    expect(regressionMetrics({ actual: [2, 2], predicted: [2, 3] }).r2).toBe(0);
  });

  it('refuses NaN, naming the column, and empty input', () => {
    expect(() => regressionMetrics({ actual: [1, 2], predicted: [1, NaN] })).toThrow(
      /column 'predicted' has a NaN value at row 1/,
    );
    expect(() => regressionMetrics({ actual: [], predicted: [] })).toThrow(/at least one row/);
  });

  it('bins a histogram as numpy: the last bin closed, a constant spread over ±0.5', () => {
    expect(histogram([0, 1, 2, 3, 4], 4)).toEqual({ edges: [0, 1, 2, 3, 4], counts: [1, 1, 1, 2] });
    expect(histogram([5, 5], 2)).toEqual({ edges: [4.5, 5, 5.5], counts: [0, 2] });
  });
});
