import { describe, expect, it } from 'vitest';
import type { PredictionColumns } from '#shared/contracts/evalkit-evaluations';
import { AppError } from '#shared/errors';
import { evaluationReport } from './evaluation-report';

const base = { slice: null, resamples: 200, confidence: 0.9, task: null } as const;

const regression = (values: number[]): PredictionColumns => ({
  kind: 'regression',
  values: Float64Array.from(values),
});

describe('evaluation reports', () => {
  it('computes regression metrics, residuals, slices and intervals from predicted values', async () => {
    const actual = ['3', '5', '2.5', '7', '4'];
    const predicted = [2.5, 5, 3, 8, 4];
    const { task, metrics, report } = await evaluationReport({
      ...base,
      target: { name: 'y', values: actual },
      predictions: regression(predicted),
      slice: { name: 'site', values: ['a', 'a', 'b', 'b', 'b'] },
    });
    expect(task).toBe('regression');
    const errors = actual.map((a, i) => Number(a) - predicted[i]!);
    const mae = errors.reduce((s, e) => s + Math.abs(e), 0) / errors.length;
    const mse = errors.reduce((s, e) => s + e * e, 0) / errors.length;
    const mean = actual.reduce((s, a) => s + Number(a), 0) / actual.length;
    const ssTot = actual.reduce((s, a) => s + (Number(a) - mean) ** 2, 0);
    expect(metrics.mae).toBeCloseTo(mae, 12);
    expect(metrics.rmse).toBeCloseTo(Math.sqrt(mse), 12);
    expect(metrics.r2).toBeCloseTo(1 - (mse * errors.length) / ssTot, 12);
    expect(report.task === 'regression' && report.metrics.residuals.max).toBe(0.5);
    expect(report.slices?.map((s) => [s.value, s.rows])).toEqual([
      ['a', 2],
      ['b', 3],
    ]);
    const mae90 = report.intervals?.mae;
    expect(mae90).toMatchObject({ confidence: 0.9, resamples: 200 });
    expect(mae90!.lower!).toBeLessThanOrEqual(mae);
    expect(mae90!.upper!).toBeGreaterThanOrEqual(mae);
  });

  it('refuses a regression target that is not a number, naming the column and row', async () => {
    const err = await evaluationReport({
      ...base,
      target: { name: 'y', values: ['1', 'n/a'] },
      predictions: regression([1, 2]),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toBe(
      "target: column 'y' has the value 'n/a' at row 2; a regression target needs a number in every row",
    );
  });

  it('refuses a label the classifier does not know, and a task the model does not do', async () => {
    const predictions: PredictionColumns = {
      kind: 'classification',
      classes: ['cat', 'dog'],
      labels: ['cat', 'dog'],
      probabilities: [Float64Array.of(0.9, 0.2), Float64Array.of(0.1, 0.8)],
    };
    await expect(
      evaluationReport({ ...base, target: { name: 'animal', values: ['cat', 'bird'] }, predictions }),
    ).rejects.toThrow("target: column 'animal' has the label 'bird' at row 2, which the model does not know");
    await expect(
      evaluationReport({
        ...base,
        task: 'regression',
        target: { name: 'animal', values: ['cat', 'dog'] },
        predictions,
      }),
    ).rejects.toThrow('task: the model predicts labels (classification), not regression');
  });
});
