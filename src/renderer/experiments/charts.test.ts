import { describe, expect, it } from 'vitest';
import { alignLines, ema, finiteOrNull, formatMetric, pointsForWidth, positiveOrNull } from './charts';

describe('chart values', () => {
  it('turns NaN and ±Infinity (sent as strings) into gaps', () => {
    expect([1.5, 'NaN', 'Infinity', '-Infinity', 0].map((v) => finiteOrNull(v as never))).toEqual([
      1.5,
      null,
      null,
      null,
      0,
    ]);
    expect(finiteOrNull(undefined)).toBeNull();
  });

  it('leaves a series as it is with smoothing 0', () => {
    expect(ema([1, 2, null, 4], 0)).toEqual([1, 2, null, 4]);
  });

  it('smooths with a debiased EMA, so the first point is the first value and gaps stay gaps', () => {
    const smoothed = ema([10, 0, null, 0], 0.5);
    expect(smoothed[0]).toBeCloseTo(10);
    // (0.5*5 + 0) / (1 - 0.25) = 10/3
    expect(smoothed[1]).toBeCloseTo(10 / 3);
    expect(smoothed[2]).toBeNull();
    // last = 1.25, debias 1 - 0.125
    expect(smoothed[3]).toBeCloseTo(1.25 / 0.875);
  });

  it('keeps a constant series constant whatever the weight', () => {
    for (const w of [0.1, 0.6, 0.99])
      expect(ema([3, 3, 3, 3], w).every((v) => Math.abs((v ?? 0) - 3) < 1e-9)).toBe(true);
  });

  it('drops values a log axis cannot place', () => {
    expect(positiveOrNull([1, 0, -2, null, 0.5])).toEqual([1, null, null, null, 0.5]);
  });

  it('aligns runs on the union of their steps: missing points are undefined, gaps null', () => {
    const aligned = alignLines([
      { x: [0, 2, 4], y: [1, null, 3] },
      { x: [1, 2], y: [5, 6] },
    ]);
    expect(aligned).toEqual([
      [0, 1, 2, 4],
      [1, undefined, null, 3],
      [undefined, 5, 6, undefined],
    ]);
  });

  it('asks for about one point per pixel, rounded up to hundreds', () => {
    expect(pointsForWidth(0)).toBe(100);
    expect(pointsForWidth(612)).toBe(700);
    expect(pointsForWidth(1e7)).toBe(100_000);
  });

  it('formats metrics short', () => {
    expect(formatMetric(0.912345)).toBe('0.9123');
    expect(formatMetric(42)).toBe('42');
    expect(formatMetric(1.5e-7)).toBe('1.500e-7');
    expect(formatMetric('-Infinity')).toBe('−∞');
    expect(formatMetric(undefined)).toBe('');
  });
});
