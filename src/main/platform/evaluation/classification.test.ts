import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors';
import { classificationMetrics } from './classification.ts';

/** ROC AUC by definition: the share of (positive, negative) pairs ranked right, ties a half. */
function bruteAuc(labels: number[], scores: number[]): number {
  let wins = 0;
  let pairs = 0;
  labels.forEach((l, i) => {
    if (l !== 1) return;
    labels.forEach((m, j) => {
      if (m !== 0) return;
      pairs++;
      wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

describe('classification metrics', () => {
  it('computes a hand-checked binary example', () => {
    // Sorted by score: 0.9 (1), 0.8 (1), 0.7 (0), 0.6 (1), 0.3 (0), 0.2 (0); threshold 0.5 predicts 1,1,1,1,0,0.
    const m = classificationMetrics({
      labels: [1, 1, 0, 1, 0, 0],
      positiveProbability: [0.9, 0.8, 0.7, 0.6, 0.3, 0.2],
    });
    expect(m.task).toBe('binary');
    expect(m.confusionMatrix).toEqual([
      [2, 1],
      [0, 3],
    ]);
    expect(m.accuracy).toBeCloseTo(5 / 6, 15);
    expect(m.positive).toEqual({ precision: 0.75, recall: 1, f1: 6 / 7 });
    // 8 of 9 pairs ordered right.
    expect(m.rocAuc.value).toBeCloseTo(8 / 9, 15);
    // AP: recall steps of 1/3 at precisions 1, 1, 3/4.
    expect(m.prAuc.value).toBeCloseTo((1 + 1 + 0.75) / 3, 15);
    const ll = -(Math.log(0.9) + Math.log(0.8) + Math.log(0.3) + Math.log(0.6) + Math.log(0.7) + Math.log(0.8)) / 6;
    expect(m.logLoss.value).toBeCloseTo(ll, 14);
    expect(m.macro.recall).toBeCloseTo((2 / 3 + 1) / 2, 15);
    expect(m.weighted.f1).toBeCloseTo((3 * 0.8 + 3 * (6 / 7)) / 6, 15);
  });

  it('gives no ROC AUC for labels of one class, with the reason', () => {
    const m = classificationMetrics({ labels: [1, 1, 1], positiveProbability: [0.2, 0.9, 0.6], classes: [0, 1] });
    expect(m.rocAuc).toEqual({ value: null, reason: expect.stringMatching(/only one class \(1\) is present/) });
    expect(m.prAuc.value).toBeCloseTo(1, 15);
    expect(m.accuracy).toBeCloseTo(2 / 3, 15);
  });

  it('refuses a NaN probability, naming the column and row', () => {
    expect(() => classificationMetrics({ labels: [0, 1], positiveProbability: [0.1, NaN] })).toThrow(
      /column 'positiveProbability' has a NaN value at row 1/,
    );
    expect(() =>
      classificationMetrics({
        labels: ['a', 'b', 'c'],
        classProbabilities: [
          [1, 0, 0],
          [0, 1, NaN],
          [0, 0, 1],
        ],
      }),
    ).toThrow(/classProbabilities\[1\] \(b\)' has a NaN value at row 2/);
  });

  it('refuses missing labels, unequal lengths, a probability above 1 and labels outside the classes', () => {
    expect(() => classificationMetrics({ labels: [0, null as unknown as number], predicted: [0, 1] })).toThrow(
      /'labels' has a missing value at row 1/,
    );
    expect(() => classificationMetrics({ labels: [0, 1, 1], predicted: [0, 1] })).toThrow(/differ in length/);
    expect(() => classificationMetrics({ labels: [0, 1], positiveProbability: [0.2, 1.5] })).toThrow(
      /outside \[0, 1\]/,
    );
    expect(() => classificationMetrics({ labels: ['x', 'z'], predicted: ['x', 'x'], classes: ['x', 'y'] })).toThrow(
      AppError,
    );
  });

  it('counts a class that is only predicted in the macro average, as sklearn', () => {
    const m = classificationMetrics({ labels: ['a', 'a', 'b'], predicted: ['a', 'c', 'b'] });
    expect(m.classes).toEqual(['a', 'b', 'c']);
    expect(m.perClass[2]).toMatchObject({ class: 'c', precision: 0, recall: 0, f1: 0, support: 0 });
    expect(m.macro.recall).toBeCloseTo((0.5 + 1 + 0) / 3, 15);
    expect(m.rocAuc.reason).toBe('no probabilities given');
  });

  it('leaves a class without rows out of the one-vs-rest macro ROC AUC, and says so', () => {
    const m = classificationMetrics({
      labels: ['a', 'b', 'a', 'b'],
      classProbabilities: [
        [0.7, 0.2, 0.6, 0.1],
        [0.2, 0.7, 0.3, 0.8],
        [0.1, 0.1, 0.1, 0.1],
      ],
      classes: ['a', 'b', 'c'],
    });
    expect(m.rocAuc.value).toBe(1);
    expect(m.rocAuc.reason).toMatch(/macro over 2 of 3 classes; classes without rows left out: c/);
    expect(m.perClass[2]!.rocAuc?.value).toBeNull();
  });

  it('has an ROC AUC equal to the pair count and unchanged by a monotone transform (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 20 })), {
          minLength: 2,
          maxLength: 60,
        }),
        (rows) => {
          const labels = rows.map(([l]) => l);
          if (!labels.includes(0) || !labels.includes(1)) return;
          const scores = rows.map(([, s]) => s / 20);
          const auc = classificationMetrics({ labels, positiveProbability: scores, classes: [0, 1] }).rocAuc.value!;
          expect(auc).toBeCloseTo(bruteAuc(labels, scores), 12);
          const squashed = scores.map((s) => s * s);
          expect(
            classificationMetrics({ labels, positiveProbability: squashed, classes: [0, 1] }).rocAuc.value,
          ).toBeCloseTo(auc, 12);
        },
      ),
    );
  });

  it('bins a calibration curve as sklearn (an inner edge belongs to the lower bin) and weighs the ECE by count', () => {
    const m = classificationMetrics(
      { labels: [0, 1, 1, 0, 1], positiveProbability: [0.1, 0.5, 0.9, 0.5, 1] },
      { calibrationBins: 2 },
    );
    const [low, high] = m.calibration!.bins;
    expect(low).toMatchObject({ lower: 0, upper: 0.5, count: 3, observed: 1 / 3 });
    expect(low!.meanPredicted).toBeCloseTo(1.1 / 3, 15);
    expect(high).toMatchObject({ count: 2, observed: 1, meanPredicted: 0.95 });
    expect(m.calibration!.expectedCalibrationError).toBeCloseTo(
      (3 / 5) * Math.abs(1 / 3 - 1.1 / 3) + (2 / 5) * 0.05,
      15,
    );
  });

  it('uses the top-label confidence for a multiclass calibration curve', () => {
    const m = classificationMetrics({
      labels: [0, 1, 2],
      classProbabilities: [
        [0.8, 0.1, 0.3],
        [0.1, 0.6, 0.3],
        [0.1, 0.3, 0.4],
      ],
    });
    expect(m.calibration!.kind).toBe('top-label');
    expect(m.accuracy).toBe(1);
  });
});
