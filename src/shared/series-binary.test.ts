import { describe, expect, it } from 'vitest';
import { decodeSeriesBinary, encodeSeriesBinary, type BinarySeries } from './series-binary';

describe('chart series in binary', () => {
  it('round-trips every value exactly, NaN, infinities and -0 included, with unicode keys', () => {
    const series: BinarySeries[] = [
      {
        runId: 'a'.repeat(32),
        key: 'loss/ü',
        total: 10,
        x: Float64Array.from([0, 5, 9]),
        y: Float64Array.from([NaN, -0, 1e-300]),
      },
      { runId: 'b'.repeat(32), key: 'acc', total: 0, x: new Float64Array(0), y: new Float64Array(0) },
      {
        runId: 'c'.repeat(32),
        key: 'x',
        total: 2,
        x: Float64Array.from([1.5, 2 ** 53]),
        y: Float64Array.from([Infinity, -Infinity]),
      },
    ];
    const bytes = encodeSeriesBinary(series);
    // A header, then 8-byte aligned columns: 2 × (3 + 0 + 2) float64s.
    expect(bytes.length % 8).toBe(0);
    const back = decodeSeriesBinary(bytes).series;
    expect(back).toEqual(series);
    expect(Object.is(back[0]?.y[1], -0)).toBe(true);
    // A copy at an odd offset in a larger buffer decodes the same.
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(decodeSeriesBinary(shifted.subarray(3)).series).toEqual(series);
  });

  it('refuses bytes that are not chart data or are cut short', () => {
    const bytes = encodeSeriesBinary([
      { runId: 'r', key: 'k', total: 1, x: Float64Array.from([1]), y: Float64Array.from([2]) },
    ]);
    expect(() => decodeSeriesBinary(new TextEncoder().encode('{"series":[]}'))).toThrow(/no AISB signature/);
    expect(() => decodeSeriesBinary(bytes.subarray(0, bytes.length - 8))).toThrow(/values run past the end/);
    expect(() => decodeSeriesBinary(bytes.subarray(0, 12))).toThrow(/header runs past the end/);
  });
});
