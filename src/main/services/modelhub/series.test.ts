import { describe, expect, it } from 'vitest';
import { decodeSeriesBinary, encodeSeriesBinary } from '#shared/series-binary';
import { chartSeries, jsonSeries, SeriesCache, type ChartOptions } from './series';

const byStep: ChartOptions = { x: 'step', maxPoints: 4, method: 'lttb' };

describe('chart series', () => {
  it('sorts points logged out of order and writes non-finite values as strings', () => {
    const s = chartSeries(
      'r',
      'loss',
      { xs: Float64Array.from([2, 0, 1]), ys: Float64Array.from([NaN, 1, -Infinity]) },
      { x: 'step', maxPoints: 10, method: 'minmax' },
    );
    expect(jsonSeries(s)).toEqual({ runId: 'r', key: 'loss', total: 3, x: [0, 1, 2], y: [1, '-Infinity', 'NaN'] });
  });

  it('reduces a long series to maxPoints, keeping the first and last points', () => {
    const xs = Float64Array.from({ length: 100 }, (_, i) => i);
    const s = chartSeries('r', 'loss', { xs, ys: xs.map((x) => x * x) }, byStep);
    expect(s.total).toBe(100);
    expect(s.x).toHaveLength(4);
    expect([s.x[0], s.x.at(-1), s.y.at(-1)]).toEqual([0, 99, 99 * 99]);
  });
});

describe('binary chart series over HTTP', () => {
  it('decode from a Node Buffer in a shared pool (as an HTTP client receives them), whose slice is a view', () => {
    const series = [{ runId: 'r', key: 'k', total: 3, x: Float64Array.from([1, 2]), y: Float64Array.from([NaN, 4]) }];
    const pooled = Buffer.concat([Buffer.from('xyz'), Buffer.from(encodeSeriesBinary(series))]).subarray(3);
    expect(decodeSeriesBinary(pooled).series).toEqual(series);
  });
});

describe('SeriesCache', () => {
  const sized = (n: number) => new Array<number>(n).fill(0);

  it('returns an entry with the point count it was made from, and replaces it', () => {
    const cache = new SeriesCache<number[]>(100, (v) => v.length);
    cache.set('a', 10, sized(4));
    expect(cache.get('a')?.points).toBe(10);
    cache.set('a', 11, sized(5));
    expect(cache.get('a')).toMatchObject({ points: 11, value: sized(5) });
    expect(cache.get('b')).toBeUndefined();
  });

  it('keeps at most its capacity in weight, dropping the least recently used', () => {
    const cache = new SeriesCache<number[]>(10, (v) => v.length);
    cache.set('1', 1, sized(4));
    cache.set('2', 1, sized(4));
    expect(cache.get('1')).toBeDefined(); // 1 is now the most recent
    cache.set('3', 1, sized(4)); // 12 > 10: 2 goes
    expect(cache.get('2')).toBeUndefined();
    expect(cache.get('1')).toBeDefined();
    expect(cache.get('3')).toBeDefined();
    cache.set('huge', 1, sized(11)); // heavier than the whole cache: not kept, nothing evicted
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.get('1')).toBeDefined();
  });
});
