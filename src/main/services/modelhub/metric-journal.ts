import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import type { StoredPoint } from './store';

/**
 * An append-only file of metric points that are acknowledged but not yet in SQLite. Logging one point a request
 * (MLflow's `log-metric`, a training loop's `log`) then costs one `write` instead of one SQLite commit; the store
 * moves the points into their chunks in one transaction every few milliseconds and empties the file. The file is
 * as durable as the database's own commits (WAL with synchronous = NORMAL): written before the client is
 * answered, it survives the process being killed; neither is flushed to the disk on every write.
 *
 * A record: u32 LE payload length, u32 LE CRC-32 of the payload, then the payload:
 *   u48 LE  sequence number (increasing; the database records the last one it holds)
 *   u8      run id length, then the run id (ASCII)
 *   u32 LE  point count, then per point: u16 LE key length, the key (UTF-8), f64 LE step, timestamp and value
 * A record cut short by a crash mid-write (it was never acknowledged) fails its length or checksum, and it and
 * anything after it are ignored.
 */
export interface JournalRecord {
  seq: number;
  runId: string;
  points: StoredPoint[];
}

const HEADER_BYTES = 8;

export function encodeRecord(record: JournalRecord): Buffer {
  let size = 6 + 1 + Buffer.byteLength(record.runId, 'latin1') + 4;
  // A batch repeats a few keys many times: each is encoded once.
  const encoded = new Map<string, Buffer>();
  const keys = record.points.map((p) => {
    let key = encoded.get(p.key);
    if (!key) {
      key = Buffer.from(p.key, 'utf8');
      encoded.set(p.key, key);
    }
    return key;
  });
  for (const k of keys) size += 2 + k.length + 24;
  const out = Buffer.allocUnsafe(HEADER_BYTES + size);
  let pos = HEADER_BYTES;
  out.writeUIntLE(record.seq, pos, 6);
  pos += 6;
  out[pos++] = record.runId.length;
  pos += out.write(record.runId, pos, 'latin1');
  out.writeUInt32LE(record.points.length, pos);
  pos += 4;
  record.points.forEach((p, i) => {
    const key = keys[i] as Buffer;
    out.writeUInt16LE(key.length, pos);
    pos += 2;
    pos += key.copy(out, pos);
    pos = out.writeDoubleLE(p.step, pos);
    pos = out.writeDoubleLE(p.timestamp, pos);
    pos = out.writeDoubleLE(p.value, pos);
  });
  out.writeUInt32LE(size, 0);
  out.writeUInt32LE(crc32(out.subarray(HEADER_BYTES)), 4);
  return out;
}

/** The whole records of a journal's bytes, in order, up to the first damaged one. */
export function decodeRecords(bytes: Buffer): JournalRecord[] {
  const records: JournalRecord[] = [];
  let at = 0;
  while (at + HEADER_BYTES <= bytes.length) {
    const size = bytes.readUInt32LE(at);
    const end = at + HEADER_BYTES + size;
    if (size < 11 || end > bytes.length) break;
    const payload = bytes.subarray(at + HEADER_BYTES, end);
    if (crc32(payload) !== bytes.readUInt32LE(at + 4)) break;
    const record = parsePayload(payload);
    if (!record) break;
    records.push(record);
    at = end;
  }
  return records;
}

function parsePayload(payload: Buffer): JournalRecord | undefined {
  let pos = 0;
  const seq = payload.readUIntLE(pos, 6);
  pos += 6;
  const idLength = payload[pos++] as number;
  const runId = payload.toString('latin1', pos, pos + idLength);
  pos += idLength;
  const count = payload.readUInt32LE(pos);
  pos += 4;
  const points: StoredPoint[] = [];
  for (let i = 0; i < count; i++) {
    if (pos + 2 > payload.length) return undefined;
    const keyLength = payload.readUInt16LE(pos);
    pos += 2;
    if (pos + keyLength + 24 > payload.length) return undefined;
    const key = payload.toString('utf8', pos, pos + keyLength);
    pos += keyLength;
    points.push({
      key,
      step: payload.readDoubleLE(pos),
      timestamp: payload.readDoubleLE(pos + 8),
      value: payload.readDoubleLE(pos + 16),
    });
    pos += 24;
  }
  return pos === payload.length ? { seq, runId, points } : undefined;
}

export class MetricJournal {
  private readonly fd: number;
  private closed = false;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'a+');
  }

  /** Every whole record the file holds (after a crash: the points to move into the database). */
  read(): JournalRecord[] {
    return fstatSync(this.fd).size === 0 ? [] : decodeRecords(readFileSync(this.file));
  }

  append(record: JournalRecord): void {
    const bytes = encodeRecord(record);
    let written = 0;
    while (written < bytes.length) written += writeSync(this.fd, bytes, written);
  }

  /** Empties the file once the database holds every record in it. */
  clear(): void {
    ftruncateSync(this.fd, 0);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}
