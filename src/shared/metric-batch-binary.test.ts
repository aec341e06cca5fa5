import { describe, expect, it } from 'vitest';
import {
  decodeMetricBatch,
  encodeMetricBatch,
  METRIC_BATCH_MAX_POINTS,
  MetricBatchError,
  type MetricBatchPoint,
} from './metric-batch-binary';

const points: MetricBatchPoint[] = [
  { key: 'loss', value: 0.25, timestamp: 1_764_000_000_123, step: 1 },
  { key: 'val/accuracy', value: Number.NaN, timestamp: 1_764_000_000_124, step: 1 },
  { key: 'loss', value: Infinity, timestamp: 1_764_000_000_125, step: 2 },
  { key: 'café', value: -Infinity, timestamp: 0, step: -3 },
  { key: 'loss', value: -0, timestamp: 2 ** 53 - 1, step: 2 ** 53 - 1 },
];

/** A batch as bytes with one part changed: the header's JSON, or a float64 column's first value. */
function withHeader(header: unknown, n: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = Math.ceil((8 + json.length) / 8) * 8;
  const bytes = new Uint8Array(start + n * 26);
  bytes.set(new TextEncoder().encode('AIMB'), 0);
  new DataView(bytes.buffer).setUint32(4, json.length, true);
  bytes.set(json, 8);
  return bytes;
}

function expectRefused(bytes: Uint8Array, message: string) {
  expect(() => decodeMetricBatch(bytes)).toThrow(MetricBatchError);
  expect(() => decodeMetricBatch(bytes)).toThrow(message);
}

describe('binary metric batches', () => {
  it('carry keys, values (NaN and ±Infinity too), timestamps and steps in order', () => {
    const decoded = decodeMetricBatch(encodeMetricBatch(points));
    expect(decoded).toEqual(points);
    expect(Object.is(decoded[4]?.value, -0)).toBe(true);
    expect(decodeMetricBatch(encodeMetricBatch([]))).toEqual([]);
  });

  it('decode from any offset of a buffer (a request body is rarely aligned)', () => {
    const bytes = encodeMetricBatch(points);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(decodeMetricBatch(shifted.subarray(3))).toEqual(points);
  });

  it('lay out as docs/api.md says', () => {
    const bytes = encodeMetricBatch(points.slice(0, 2));
    const view = new DataView(bytes.buffer);
    const header = '{"keys":["loss","val/accuracy"],"points":2}';
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('AIMB');
    expect(view.getUint32(4, true)).toBe(header.length);
    expect(new TextDecoder().decode(bytes.subarray(8, 8 + header.length))).toBe(header);
    const start = 56; // 8 + 43, up to a multiple of 8
    expect(bytes.length).toBe(start + 2 * 26);
    expect([
      view.getFloat64(start, true),
      view.getFloat64(start + 16, true),
      view.getFloat64(start + 32, true),
    ]).toEqual([0.25, 1_764_000_000_123, 1]);
    expect([view.getUint16(start + 48, true), view.getUint16(start + 50, true)]).toEqual([0, 1]);
  });

  it('refuse what is not a batch, naming the problem', () => {
    expectRefused(new TextEncoder().encode('{"metrics":[]}'), 'does not start with AIMB');
    expectRefused(new Uint8Array(3), 'does not start with AIMB');
    const bytes = encodeMetricBatch(points);
    expectRefused(bytes.subarray(0, bytes.length - 1), `is ${bytes.length - 1} bytes`);
    const longer = new Uint8Array(bytes.length + 8);
    longer.set(bytes);
    expectRefused(longer, `is ${bytes.length + 8} bytes`);
    const pastEnd = bytes.slice();
    new DataView(pastEnd.buffer).setUint32(4, 10_000, true);
    expectRefused(pastEnd, 'header (10000 bytes) runs past the end');
    const notJson = withHeader({ keys: [], points: 0 }, 0);
    notJson[8] = 0x7b + 1;
    expectRefused(notJson, 'header is not UTF-8 JSON');
    expectRefused(withHeader({ keys: ['a', 3], points: 0 }, 0), 'no "keys" list of strings');
    expectRefused(withHeader({ keys: ['a'], points: 1.5 }, 0), 'no "points" count');
    expectRefused(
      withHeader({ keys: ['a'], points: METRIC_BATCH_MAX_POINTS + 1 }, METRIC_BATCH_MAX_POINTS + 1),
      `holds ${METRIC_BATCH_MAX_POINTS + 1} points; at most ${METRIC_BATCH_MAX_POINTS}`,
    );
  });

  it('refuse a point with an unknown key or a step or timestamp that is not an integer', () => {
    const one = (change: (view: DataView, start: number) => void) => {
      const bytes = encodeMetricBatch([{ key: 'loss', value: 1, timestamp: 5, step: 7 }]);
      change(new DataView(bytes.buffer), bytes.length - 26);
      return bytes;
    };
    expectRefused(
      one((v, s) => v.setUint16(s + 24, 1, true)),
      'point 0 names key 1; the header has 1',
    );
    expectRefused(
      one((v, s) => v.setFloat64(s + 8, 5.5, true)),
      'point 0 (loss) has the timestamp 5.5, not an integer',
    );
    expectRefused(
      one((v, s) => v.setFloat64(s + 16, Number.NaN, true)),
      'point 0 (loss) has the step NaN, not an integer',
    );
    expectRefused(
      one((v, s) => v.setFloat64(s + 16, 2 ** 53, true)),
      `point 0 (loss) has the step ${2 ** 53}, not an integer`,
    );
  });
});
