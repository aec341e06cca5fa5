import { endianness } from 'node:os';
import { crc32 } from 'node:zlib';
import { AppError } from '#shared/errors';

/**
 * The storage format of one chunk of a metric's history (a few hundred to a few thousand points):
 *
 *   u8      format version (1)
 *   varint  point count n
 *   column  steps       u8 mode, then: mode 0: n zigzag varints of the delta from the previous step (from 0)
 *   column  timestamps                        mode 1: n float64 LE
 *   column  values      u8 mode (0), then n float64 LE
 *   u32 LE  CRC-32 of everything before it
 *
 * Steps and timestamps are integers and usually grow by small constant amounts, so a delta takes a byte or two;
 * a column holding anything a delta cannot carry exactly (a fraction, -0, NaN, |x| > 2^53, a jump of 2^52 or
 * more) falls back to raw float64, so encoding never loses or refuses data. Values stay raw float64: exact
 * for NaN, ±Infinity and -0 (NaN payloads too, since the bytes are copied), and decoded with one memcpy.
 * A training series (steps 0, 1, 2, ..., timestamps some ms apart) costs about 10 bytes a point.
 */
export interface MetricPoints {
  steps: Float64Array;
  timestamps: Float64Array;
  values: Float64Array;
}

const VERSION = 1;
const DELTA = 0;
const RAW = 1;
/** A delta in (-2^52, 2^52) zigzags to below 2^53, so every varint stays an exact double. */
const DELTA_LIMIT = 2 ** 52;
const INT_LIMIT = 2 ** 53;
/** 8 × 7 bits covers 2^53; a longer varint is corrupt. */
const MAX_VARINT_BYTES = 8;
const LITTLE_ENDIAN = endianness() === 'LE';

function corrupt(message: string): never {
  throw new AppError('INTERNAL', `corrupt metric chunk: ${message}`);
}

// ---------------------------------------------------------------------------------------------------------
// Encoding

function writeVarint(out: Buffer, pos: number, value: number): number {
  let v = value;
  if (v < 0x80) {
    out[pos] = v;
    return pos + 1;
  }
  // Bit operations are exact below 2^31; above, divide (exact for integers below 2^53).
  while (v >= 0x80000000) {
    out[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  while (v >= 0x80) {
    out[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[pos++] = v;
  return pos;
}

/** Whether a column can be stored as zigzag deltas without loss. */
function deltaEncodable(column: Float64Array): boolean {
  let prev = 0;
  for (let i = 0; i < column.length; i++) {
    const v = column[i] as number;
    const d = v - prev;
    // NaN and ±Infinity fail the range test; fractions fail isInteger; -0 would come back as +0.
    if (!(d > -DELTA_LIMIT && d < DELTA_LIMIT) || !Number.isInteger(v) || (v === 0 && 1 / v < 0)) return false;
    if (v > INT_LIMIT || v < -INT_LIMIT) return false;
    prev = v;
  }
  return true;
}

function writeFloats(out: Buffer, pos: number, column: Float64Array): number {
  if (LITTLE_ENDIAN) {
    out.set(new Uint8Array(column.buffer, column.byteOffset, column.byteLength), pos);
    return pos + column.byteLength;
  }
  for (let i = 0; i < column.length; i++, pos += 8) out.writeDoubleLE(column[i] as number, pos);
  return pos;
}

function writeColumn(out: Buffer, pos: number, column: Float64Array): number {
  if (!deltaEncodable(column)) {
    out[pos++] = RAW;
    return writeFloats(out, pos, column);
  }
  out[pos++] = DELTA;
  let prev = 0;
  for (let i = 0; i < column.length; i++) {
    const v = column[i] as number;
    const d = v - prev;
    prev = v;
    pos = writeVarint(out, pos, d >= 0 ? d * 2 : -d * 2 - 1);
  }
  return pos;
}

/** Encodes columnar points into one chunk (see the format above). The three columns must be the same length. */
export function encodeChunk(points: MetricPoints): Buffer {
  const n = points.values.length;
  if (points.steps.length !== n || points.timestamps.length !== n) {
    throw AppError.invalid(
      'points',
      `steps, timestamps and values must be the same length (got ${points.steps.length}, ` +
        `${points.timestamps.length} and ${n})`,
    );
  }
  // Worst case: header, two raw-or-8-byte-varint columns, raw values, checksum.
  const scratch = Buffer.allocUnsafe(1 + MAX_VARINT_BYTES + 3 + 24 * n + 4);
  let pos = 0;
  scratch[pos++] = VERSION;
  pos = writeVarint(scratch, pos, n);
  pos = writeColumn(scratch, pos, points.steps);
  pos = writeColumn(scratch, pos, points.timestamps);
  scratch[pos++] = RAW;
  pos = writeFloats(scratch, pos, points.values);
  scratch.writeUInt32LE(crc32(scratch.subarray(0, pos)), pos);
  pos += 4;
  const out = Buffer.allocUnsafe(pos);
  scratch.copy(out, 0, 0, pos);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Decoding

class Reader {
  pos = 0;

  constructor(
    readonly buf: Buffer,
    readonly end: number,
  ) {}

  byte(what: string): number {
    if (this.pos >= this.end) corrupt(`truncated in ${what}`);
    return this.buf[this.pos++] as number;
  }

  varint(what: string): number {
    const { buf, end } = this;
    let pos = this.pos;
    if (pos >= end) corrupt(`truncated in ${what}`);
    let b = buf[pos++] as number;
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    let value = b & 0x7f;
    let scale = 128;
    for (let i = 1; ; i++) {
      if (i >= MAX_VARINT_BYTES) corrupt(`varint too long in ${what}`);
      if (pos >= end) corrupt(`truncated in ${what}`);
      b = buf[pos++] as number;
      value += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
    }
    if (value >= INT_LIMIT) corrupt(`varint out of range in ${what}`);
    this.pos = pos;
    return value;
  }

  /** Copies n raw float64s into `into` from index `at`. */
  floats(n: number, what: string, into: Float64Array, at: number): void {
    const bytes = n * 8;
    if (this.end - this.pos < bytes) corrupt(`truncated in ${what}`);
    if (LITTLE_ENDIAN) {
      new Uint8Array(into.buffer, into.byteOffset + at * 8, bytes).set(this.buf.subarray(this.pos, this.pos + bytes));
    } else {
      for (let i = 0; i < n; i++) into[at + i] = this.buf.readDoubleLE(this.pos + i * 8);
    }
    this.pos += bytes;
  }

  /** Moves past one steps or timestamps column of n points without decoding it (the chunk's CRC is checked). */
  skipColumn(n: number, what: string): void {
    const mode = this.byte(what);
    if (mode === RAW) {
      if (this.end - this.pos < n * 8) corrupt(`truncated in ${what}`);
      this.pos += n * 8;
      return;
    }
    if (mode !== DELTA) corrupt(`unknown ${what} encoding ${mode}`);
    const { buf, end } = this;
    let pos = this.pos;
    // Every varint ends with the one byte below 0x80.
    for (let left = n; left > 0; pos++) {
      if (pos >= end) corrupt(`truncated in ${what}`);
      if ((buf[pos] as number) < 0x80) left--;
    }
    this.pos = pos;
  }

  /** Decodes one steps or timestamps column of n points into `into` from index `at`. */
  column(n: number, what: string, into: Float64Array, at: number): void {
    const mode = this.byte(what);
    if (mode === RAW) return this.floats(n, what, into, at);
    if (mode !== DELTA) corrupt(`unknown ${what} encoding ${mode}`);
    const { buf, end } = this;
    let pos = this.pos;
    let prev = 0;
    for (let i = at; i < at + n; i++) {
      const b = pos < end ? (buf[pos] as number) : 0x100;
      let d: number;
      if (b < 0x80) {
        // One-byte delta, the common case: zigzag with bit operations.
        d = (b >>> 1) ^ -(b & 1);
        pos++;
      } else {
        this.pos = pos;
        const zz = this.varint(what);
        pos = this.pos;
        d = zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2;
      }
      prev += d;
      if (prev > INT_LIMIT || prev < -INT_LIMIT) corrupt(`${what} out of range`);
      into[i] = prev;
    }
    this.pos = pos;
  }
}

/** Checks a chunk's checksum and version and reads its point count; the reader is left at the steps column. */
function open(buf: Buffer): { reader: Reader; n: number } {
  if (buf.length < 1 + 1 + 3 + 4) corrupt(`too short (${buf.length} bytes)`);
  const end = buf.length - 4;
  if (crc32(buf.subarray(0, end)) !== buf.readUInt32LE(end)) corrupt('checksum mismatch');
  const reader = new Reader(buf, end);
  const version = reader.byte('header');
  if (version !== VERSION) corrupt(`unknown format version ${version}`);
  const n = reader.varint('count');
  // Each point takes at least one byte per delta column and eight for its value.
  if (n * 10 > end - reader.pos) corrupt(`count ${n} does not fit in ${buf.length} bytes`);
  return { reader, n };
}

/** Which of the x columns to decode; values are always decoded. A chart by step needs no timestamps. */
export interface PointColumns {
  steps: boolean;
  timestamps: boolean;
}

const ALL_COLUMNS: PointColumns = { steps: true, timestamps: true };

function readBody(reader: Reader, n: number, into: MetricPoints, at: number, columns: PointColumns): void {
  if (columns.steps) reader.column(n, 'steps', into.steps, at);
  else reader.skipColumn(n, 'steps');
  if (columns.timestamps) reader.column(n, 'timestamps', into.timestamps, at);
  else reader.skipColumn(n, 'timestamps');
  const mode = reader.byte('values');
  if (mode !== RAW) corrupt(`unknown values encoding ${mode}`);
  reader.floats(n, 'values', into.values, at);
  if (reader.pos !== reader.end) corrupt(`${reader.end - reader.pos} trailing bytes`);
}

function allocate(n: number, columns: PointColumns = ALL_COLUMNS): MetricPoints {
  return {
    steps: new Float64Array(columns.steps ? n : 0),
    timestamps: new Float64Array(columns.timestamps ? n : 0),
    values: new Float64Array(n),
  };
}

/** Decodes a chunk made by `encodeChunk`; throws on a corrupt or truncated buffer. */
export function decodeChunk(buf: Buffer): MetricPoints {
  const { reader, n } = open(buf);
  const out = allocate(n);
  readBody(reader, n, out, 0, ALL_COLUMNS);
  return out;
}

/**
 * Decodes chunks straight into one set of columns, in order: `concatPoints(bufs.map(decodeChunk))`, faster. A
 * column left out of `columns` comes back empty.
 */
export function decodeChunks(bufs: readonly Buffer[], columns: PointColumns = ALL_COLUMNS): MetricPoints {
  const opened = bufs.map(open);
  let total = 0;
  for (const { n } of opened) total += n;
  const out = allocate(total, columns);
  let at = 0;
  for (const { reader, n } of opened) {
    readBody(reader, n, out, at, columns);
    at += n;
  }
  return out;
}

/** Joins point sets end to end (e.g. the decoded chunks of one metric, in order). */
export function concatPoints(parts: readonly MetricPoints[]): MetricPoints {
  let n = 0;
  for (const p of parts) n += p.values.length;
  const out: MetricPoints = {
    steps: new Float64Array(n),
    timestamps: new Float64Array(n),
    values: new Float64Array(n),
  };
  let at = 0;
  for (const p of parts) {
    const len = p.values.length;
    if (p.steps.length !== len || p.timestamps.length !== len) {
      throw AppError.invalid('points', 'steps, timestamps and values must be the same length');
    }
    out.steps.set(p.steps, at);
    out.timestamps.set(p.timestamps, at);
    out.values.set(p.values, at);
    at += len;
  }
  return out;
}
