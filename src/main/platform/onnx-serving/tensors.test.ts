import { describe, expect, it } from 'vitest';
import {
  allocateValues,
  concatRows,
  fromFloat16Bits,
  splitRows,
  toFloat16Bits,
  valuesMatch,
  type TensorData,
} from './tensors';

const f32 = (dims: number[], values: number[]): TensorData => ({
  dtype: 'float32',
  dims,
  data: Float32Array.from(values),
});

describe('concatRows and splitRows', () => {
  it('joins requests along dim 0 in order and splits the output back to each', () => {
    const joined = concatRows([f32([1, 2], [1, 2]), f32([2, 2], [3, 4, 5, 6]), f32([1, 2], [7, 8])]);
    expect(joined.dims).toEqual([4, 2]);
    expect(Array.from(joined.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const parts = splitRows(joined, [1, 2, 1]);
    expect(parts.map((p) => p.dims)).toEqual([
      [1, 2],
      [2, 2],
      [1, 2],
    ]);
    expect(parts.map((p) => Array.from(p.data as Float32Array))).toEqual([
      [1, 2],
      [3, 4, 5, 6],
      [7, 8],
    ]);
    // Each part owns its values.
    expect((parts[1]?.data as Float32Array).buffer).not.toBe((joined.data as Float32Array).buffer);
  });

  it('joins int64 and string tensors too', () => {
    const a: TensorData = { dtype: 'int64', dims: [1], data: BigInt64Array.from([1n]) };
    const b: TensorData = { dtype: 'int64', dims: [2], data: BigInt64Array.from([2n, 3n]) };
    expect(Array.from(concatRows([a, b]).data as BigInt64Array)).toEqual([1n, 2n, 3n]);
    const s = concatRows([
      { dtype: 'string', dims: [1, 1], data: ['a'] },
      { dtype: 'string', dims: [1, 1], data: ['b'] },
    ]);
    expect(s).toEqual({ dtype: 'string', dims: [2, 1], data: ['a', 'b'] });
    expect(splitRows(s, [1, 1]).map((p) => p.data)).toEqual([['a'], ['b']]);
  });

  it('refuses tensors whose inner dims or dtypes differ, and outputs whose dim 0 is not the batch', () => {
    expect(() => concatRows([f32([1, 2], [1, 2]), f32([1, 3], [1, 2, 3])])).toThrow(/cannot batch/);
    expect(() => concatRows([f32([1], [1]), { dtype: 'float64', dims: [1], data: Float64Array.from([1]) }])).toThrow(
      /cannot batch/,
    );
    expect(() => splitRows(f32([3, 1], [1, 2, 3]), [1, 1])).toThrow(/batch of 2 rows gave an output of shape \[3,1\]/);
    expect(() => splitRows(f32([], [1]), [1])).toThrow(/cannot be split/);
  });
});

describe('storage', () => {
  it('allocates each dtype in the storage onnxruntime-node uses', () => {
    expect(allocateValues('float16', 2)).toBeInstanceOf(Uint16Array);
    expect(allocateValues('bool', 2)).toBeInstanceOf(Uint8Array);
    expect(allocateValues('uint64', 2)).toBeInstanceOf(BigUint64Array);
    expect(allocateValues('string', 2)).toEqual(['', '']);
    expect(valuesMatch('float32', new Float64Array(1))).toBe(false);
    expect(valuesMatch('string', ['a', 1])).toBe(false);
  });

  it('rounds numbers to half precision and back', () => {
    for (const v of [0, 1, -2, 0.5, 65504, 6.103515625e-5, 5.960464477539063e-8])
      expect(fromFloat16Bits(toFloat16Bits(v))).toBe(v);
    expect(toFloat16Bits(1)).toBe(0x3c00);
    expect(toFloat16Bits(-2)).toBe(0xc000);
    expect(fromFloat16Bits(toFloat16Bits(0.1))).toBeCloseTo(0.0999755859375, 12);
    expect(fromFloat16Bits(toFloat16Bits(1e6))).toBe(Infinity);
    expect(fromFloat16Bits(toFloat16Bits(65519))).toBe(65504);
    expect(fromFloat16Bits(toFloat16Bits(65520))).toBe(Infinity);
    expect(Number.isNaN(fromFloat16Bits(toFloat16Bits(NaN)))).toBe(true);
    expect(fromFloat16Bits(toFloat16Bits(1e-9))).toBe(0);
  });
});
