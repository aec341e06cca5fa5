import { describe, expect, it } from 'vitest';
import { classificationSlices, regressionSlices } from './slices.ts';

describe('slices', () => {
  const input = {
    labels: [0, 1, 1, 0, 1, 0],
    positiveProbability: [0.2, 0.9, 0.4, 0.6, 0.8, 0.1],
  };

  it('computes the metrics per value, with the classes of the whole data, and a missing-value slice last', () => {
    const slices = classificationSlices(input, { name: 'country', values: ['fr', 'de', 'fr', null, 'de', 'de'] });
    expect(slices.map((s) => [s.value, s.rows])).toEqual([
      ['de', 3],
      ['fr', 2],
      [null, 1],
    ]);
    expect(slices[0]!.metrics!.rocAuc.value).toBe(1);
    expect(slices[0]!.metrics!.classes).toEqual([0, 1]);
    // One row of class 0: no ROC AUC, with the reason.
    expect(slices[2]!.metrics!.rocAuc.reason).toMatch(/only one class \(0\)/);
  });

  it('reports an expected slice without rows as empty, with the reason, and skips slices below minRows', () => {
    const slices = classificationSlices(
      input,
      { name: 'country', values: ['fr', 'fr', 'fr', 'fr', 'de', 'de'] },
      { expected: ['it'], minRows: 3 },
    );
    expect(slices.find((s) => s.value === 'it')).toEqual({
      value: 'it',
      rows: 0,
      metrics: null,
      reason: 'no rows with country = it',
    });
    expect(slices.find((s) => s.value === 'de')).toMatchObject({
      rows: 2,
      metrics: null,
      reason: '2 rows, fewer than 3',
    });
  });

  it('refuses a slice column of another length, naming it', () => {
    expect(() => regressionSlices({ actual: [1, 2], predicted: [1, 2] }, { name: 'segment', values: ['a'] })).toThrow(
      /slice column 'segment' has 1 rows, the data 2/,
    );
    const r = regressionSlices({ actual: [1, 2, 3], predicted: [1, 2, 4] }, { name: 'segment', values: [1, 2, 2] });
    expect(r.map((s) => s.metrics?.mae)).toEqual([0, 0.5]);
  });
});
