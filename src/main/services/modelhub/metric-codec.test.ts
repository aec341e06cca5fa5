import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors';
import { concatPoints, decodeChunk, decodeChunks, encodeChunk, type MetricPoints } from './metric-codec';

function points(steps: number[], timestamps: number[], values: number[]): MetricPoints {
  return {
    steps: Float64Array.from(steps),
    timestamps: Float64Array.from(timestamps),
    values: Float64Array.from(values),
  };
}

/** Bit-exact comparison of two columns, reporting the first difference. */
function sameBits(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  const x = new BigUint64Array(a.buffer, a.byteOffset, a.length);
  const y = new BigUint64Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i]);
}

function expectSame(actual: MetricPoints, expected: MetricPoints): void {
  expect(sameBits(actual.steps, expected.steps)).toBe(true);
  expect(sameBits(actual.timestamps, expected.timestamps)).toBe(true);
  expect(sameBits(actual.values, expected.values)).toBe(true);
}

/** A training series: steps 0..n-1, timestamps ~15 ms apart with jitter, a decaying noisy loss. */
function trainingSeries(n: number, seed = 1): MetricPoints {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const p: MetricPoints = {
    steps: new Float64Array(n),
    timestamps: new Float64Array(n),
    values: new Float64Array(n),
  };
  let t = 1_718_000_000_000;
  for (let i = 0; i < n; i++) {
    t += 10 + Math.floor(random() * 10);
    p.steps[i] = i;
    p.timestamps[i] = t;
    p.values[i] = 2.5 * Math.exp(-i / 300) + random() * 0.05;
  }
  return p;
}

const MAX = 2 ** 53;
const integer = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.maxSafeInteger(),
  fc.constantFrom(MAX, -MAX, MAX - 1, -(MAX - 1), 2 ** 52, -(2 ** 52), 2 ** 31, -(2 ** 31)),
);
const anyDouble = fc.oneof(
  fc.double(),
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, Number.MIN_VALUE, -Number.MAX_VALUE, 0.1),
);

function columns(n: number, element: fc.Arbitrary<number>) {
  return fc.array(element, { minLength: n, maxLength: n }).map((xs) => Float64Array.from(xs));
}

const chunk = fc
  .nat({ max: 300 })
  .chain((n) =>
    fc.record({ steps: columns(n, integer), timestamps: columns(n, integer), values: columns(n, anyDouble) }),
  );

describe('metric chunks', () => {
  it('round-trips an empty chunk', () => {
    const empty = points([], [], []);
    expectSame(decodeChunk(encodeChunk(empty)), empty);
  });

  it('round-trips NaN, ±Infinity and -0 values exactly', () => {
    const p = points([0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [NaN, Infinity, -Infinity, -0, 0]);
    const back = decodeChunk(encodeChunk(p));
    expectSame(back, p);
    expect(Object.is(back.values[3], -0)).toBe(true);
  });

  it('round-trips integer steps and timestamps, values of any kind, bit for bit', () => {
    fc.assert(
      fc.property(chunk, (p) => {
        expectSame(decodeChunk(encodeChunk(p)), p);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips steps and timestamps that are not integers by falling back to raw floats', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 50 }).chain((n) =>
          fc.record({
            steps: columns(n, anyDouble),
            timestamps: columns(n, anyDouble),
            values: columns(n, anyDouble),
          }),
        ),
        (p) => {
          const back = decodeChunk(encodeChunk(p));
          // NaN payloads need not survive in steps and timestamps; everything else must.
          for (const key of ['steps', 'timestamps'] as const) {
            back[key].forEach((v, i) => expect(Object.is(v, p[key][i])).toBe(true));
          }
          expect(sameBits(back.values, p.values)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps the extremes of the integer range and jumps between them', () => {
    const p = points([MAX, -MAX, MAX, 0, -MAX], [-MAX, -MAX + 1, 2 ** 52, -(2 ** 52), 1], [1, 2, 3, 4, 5]);
    expectSame(decodeChunk(encodeChunk(p)), p);
    const near = points([2 ** 52 - 1, -(2 ** 52 - 1), 0], [0, 2 ** 52 - 1, 0], [0, 0, 0]);
    expectSame(decodeChunk(encodeChunk(near)), near);
  });

  it('keeps a typical training series under 12 bytes a point', () => {
    const p = trainingSeries(1000);
    const bytes = encodeChunk(p).length;
    const perPoint = bytes / 1000;
    console.log(`metric chunk: ${bytes} bytes for 1000 points = ${perPoint.toFixed(2)} bytes/point`);
    expect(perPoint).toBeLessThanOrEqual(12);
    expectSame(decodeChunk(encodeChunk(p)), p);
  });

  it('refuses columns of different lengths', () => {
    expect(() => encodeChunk(points([1, 2], [1], [1, 2]))).toThrow(/same length \(got 2, 1 and 2\)/);
  });

  it('throws on a truncated, extended or altered buffer', () => {
    const good = encodeChunk(trainingSeries(50));
    const cases: Buffer[] = [
      Buffer.alloc(0),
      good.subarray(0, 5),
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.from([0])]),
    ];
    for (let i = 0; i < good.length; i += 7) {
      const bad = Buffer.from(good);
      bad[i] = (bad[i] ?? 0) ^ 0x10;
      cases.push(bad);
    }
    for (const bad of cases) {
      expect(() => decodeChunk(bad)).toThrow(/corrupt metric chunk/);
    }
  });

  it('validates the structure even when the checksum matches', () => {
    const sealed = (body: number[]) => {
      const b = Buffer.from(body);
      const crc = Buffer.alloc(4);
      crc.writeUInt32LE(crc32(b));
      return Buffer.concat([b, crc]);
    };
    const zeros = (n: number) => new Array<number>(n).fill(0);
    const cases: [number[], RegExp][] = [
      [[2, 0, 0, 0, 1], /unknown format version 2/],
      [[1, 1, 7, 0, 0, 1, ...zeros(8)], /unknown steps encoding 7/],
      [[1, 1, 0, 0, 0, 0, 0, ...zeros(8)], /unknown values encoding 0/],
      [[1, 200, 1, 0, 0, 0, 0, 1], /count 200 does not fit/],
      [[1, 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 1, ...zeros(8)], /varint too long/],
      [[1, 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 1, ...zeros(8)], /out of range/],
      [[1, 1, 0, 0, 0, 0, 1, ...zeros(9)], /1 trailing bytes/],
    ];
    for (const [body, message] of cases) {
      expect(() => decodeChunk(sealed(body)), message.source).toThrow(message);
    }
    try {
      decodeChunk(Buffer.alloc(3));
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('INTERNAL');
    }
  });

  it('concatenates point sets in order', () => {
    const a = points([0, 1], [10, 11], [0.5, NaN]);
    const b = points([], [], []);
    const c = points([2], [12], [-0]);
    expectSame(concatPoints([a, b, c]), points([0, 1, 2], [10, 11, 12], [0.5, NaN, -0]));
    expectSame(concatPoints([]), points([], [], []));
  });

  it('decodes many chunks into one set of columns, as concatenating them would', () => {
    const chunks = [trainingSeries(10, 1), points([], [], []), trainingSeries(7, 2)].map(encodeChunk);
    expectSame(decodeChunks(chunks), concatPoints(chunks.map((c) => decodeChunk(c))));
    expectSame(decodeChunks([]), points([], [], []));
    expect(() => decodeChunks([chunks[0] as Buffer, Buffer.alloc(12)])).toThrow(/corrupt metric chunk/);
  });

  it('decodes only the x column a chart asks for, past delta and raw columns alike', () => {
    // Delta steps with multi-byte varints (jumps of 2^40) and raw timestamps (a fraction forces them raw).
    const odd = points([0, 2 ** 40, 2 ** 40 + 1, -5], [0.5, 1, 2, 3], [1, NaN, -Infinity, -0]);
    const chunks = [trainingSeries(300, 3), odd, trainingSeries(5, 4)].map(encodeChunk);
    const full = decodeChunks(chunks);
    const bySteps = decodeChunks(chunks, { steps: true, timestamps: false });
    const byTime = decodeChunks(chunks, { steps: false, timestamps: true });
    expectSame(bySteps, { ...full, timestamps: new Float64Array(0) });
    expectSame(byTime, { ...full, steps: new Float64Array(0) });
    // A column that runs past the end is still caught when it is skipped: no byte below 0x80 ends its varint.
    const body = Buffer.from([1, 1, 0, ...new Array<number>(12).fill(0x80)]);
    const sealed = Buffer.concat([body, Buffer.alloc(4)]);
    sealed.writeUInt32LE(crc32(body), body.length);
    expect(() => decodeChunks([sealed], { steps: false, timestamps: true })).toThrow(/truncated in steps/);
  });

  it('decodes a million points (timing printed, not asserted)', () => {
    const chunks = Array.from({ length: 1000 }, (_, i) => {
      const p = trainingSeries(1000, i + 1);
      p.steps = p.steps.map((s) => s + i * 1000);
      return encodeChunk(p);
    });
    const start = performance.now();
    const all = decodeChunks(chunks);
    const ms = performance.now() - start;
    console.log(`metric chunk: decoded 1,000,000 points in ${ms.toFixed(1)} ms`);
    expect(all.values.length).toBe(1_000_000);
    expect(all.steps[999_999]).toBe(999_999);
  });
});
